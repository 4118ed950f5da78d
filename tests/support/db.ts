import { inject } from "vitest";
import { createDb, type Database } from "@/lib/db/client";

/** A Prisma client on this run's fresh test database, with a pool of several connections as the app has. */
export function connectTestDb(): Database {
  return createDb(inject("databaseUrl"), 5);
}
