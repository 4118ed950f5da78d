import { describe, expect, it } from "vitest";
import { isDatabaseUnavailable } from "@/lib/db/errors";
import { Prisma } from "@/lib/generated/prisma/client";

// Which thrown errors the page and the API answer as "the database failed, nothing changed" (database_failed)
// rather than as a bug. The restart itself is tests/reliability/postgres-restart.test.ts.
describe("isDatabaseUnavailable", () => {
  const known = (code: string) => new Prisma.PrismaClientKnownRequestError("message", { code, clientVersion: "test" });

  it("is true for a server that cannot be reached, went away or is restarting", () => {
    for (const code of ["P1001", "P1002", "P1008", "P1017", "P2024"]) expect(isDatabaseUnavailable(known(code)), code).toBe(true);
    expect(isDatabaseUnavailable(new Prisma.PrismaClientInitializationError("cannot start", "test"))).toBe(true);
    for (const code of ["ECONNREFUSED", "ECONNRESET", "08006", "08001", "57P01", "57P03"]) {
      expect(isDatabaseUnavailable(Object.assign(new Error("x"), { code })), code).toBe(true);
    }
    expect(isDatabaseUnavailable(new Error("Connection terminated unexpectedly"))).toBe(true);
  });

  it("is false for a statement the database refused and for anything else", () => {
    for (const code of ["P2002", "P2025", "P2003"]) expect(isDatabaseUnavailable(known(code)), code).toBe(false);
    for (const code of ["23505", "40001", "42P01"]) expect(isDatabaseUnavailable(Object.assign(new Error("x"), { code })), code).toBe(false);
    for (const value of [new TypeError("bug"), "text", null, undefined, 42]) expect(isDatabaseUnavailable(value)).toBe(false);
  });
});
