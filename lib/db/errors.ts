import "server-only";

import { Prisma } from "@/lib/generated/prisma/client";

// Prisma's codes for "the server could not be reached or went away": can't reach, timed out, operation timed out,
// server closed the connection, no pool connection in time. Postgres's own: class 08 (connection exception) and
// 57P01-57P03 (shut down, crashed, not accepting connections yet — a restart in progress).
const PRISMA_UNAVAILABLE = new Set(["P1001", "P1002", "P1008", "P1017", "P2024"]);
const SOCKET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EHOSTUNREACH"]);
const POSTGRES_UNAVAILABLE = /^(08...|57P0[123])$/;

/**
 * Whether an error thrown by a database call means the database could not be reached (down, restarting, failed
 * over), as opposed to a bug or a refused statement: the caller can say "the database failed, nothing changed, try
 * again" instead of "something went wrong".
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (error instanceof Prisma.PrismaClientInitializationError) return true;
  if (error instanceof Prisma.PrismaClientKnownRequestError) return PRISMA_UNAVAILABLE.has(error.code);
  if (typeof error !== "object" || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === "string" && (SOCKET_CODES.has(code) || POSTGRES_UNAVAILABLE.test(code))) return true;
  // node-postgres ends a query whose connection dropped with a bare Error and this message.
  return typeof message === "string" && /^Connection terminated/.test(message);
}
