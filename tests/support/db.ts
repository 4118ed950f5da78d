import { inject } from "vitest";
import { createDb, type Database } from "@/lib/db/client";

/** A Prisma client on this run's fresh test database (one connection: the embedded Postgres needs that). */
export function connectTestDb(): Database {
  return createDb(inject("databaseUrl"), 1);
}
