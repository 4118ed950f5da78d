import type { TestProject } from "vitest/node";
import { provisionTestDatabase, type TestDatabase } from "./test-database";

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}

let database: TestDatabase | undefined;

export async function setup(project: TestProject) {
  database = await provisionTestDatabase("it");
  project.provide("databaseUrl", database.url);
  console.log(`integration tests use a fresh ${database.kind === "server" ? "database on DATABASE_URL's server" : "throwaway embedded PostgreSQL"}`);
}

export async function teardown() {
  await database?.drop();
}
