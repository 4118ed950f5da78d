import "server-only";

import { PrismaPg } from "@prisma/adapter-pg";
import { getConfig } from "@/lib/config";
import { PrismaClient } from "@/lib/generated/prisma/client";

export type Database = PrismaClient;

const globalForDb = globalThis as typeof globalThis & { __db?: PrismaClient };

export function createDb(databaseUrl: string, poolSize: number): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl, max: poolSize }) });
}

/** The one Prisma client of this process (kept on globalThis so dev-mode reloads don't open new pools). */
export function getDb(): PrismaClient {
  if (!globalForDb.__db) {
    const { databaseUrl, databasePoolSize } = getConfig();
    if (!databaseUrl) {
      throw new Error("DATABASE_URL is not set. Start the app with `npm start`, which provides an embedded Postgres.");
    }
    globalForDb.__db = createDb(databaseUrl, databasePoolSize);
  }
  return globalForDb.__db;
}
