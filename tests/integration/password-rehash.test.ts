import { randomUUID, scryptSync } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { needsRehash, verifyPassword } from "@/lib/auth/password";
import { findUserByPassword } from "@/lib/auth/users";
import { connectTestDb } from "../support/db";

const db = connectTestDb();
afterAll(() => db.$disconnect());

/** A hash as the previous version stored it: scrypt N=2^15. */
function oldHash(password: string): string {
  const salt = Buffer.from("fedcba9876543210");
  const key = scryptSync(password, salt, 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
  return ["scrypt", 2 ** 15, 8, 1, salt.toString("base64"), key.toString("base64")].join("$");
}

describe("findUserByPassword", { timeout: 120_000 }, () => {
  it("signs in with a hash made with older parameters, and replaces it with one made with today's", async () => {
    const email = `old-hash-${randomUUID()}@acme.test`;
    const stored = oldHash("demo");
    const user = await db.user.create({ data: { email, name: "Old Hash", passwordHash: stored } });

    // A wrong password changes nothing.
    expect(await findUserByPassword(email, "wrong", db)).toBeNull();
    expect((await db.user.findUniqueOrThrow({ where: { id: user.id } })).passwordHash).toBe(stored);

    expect(await findUserByPassword(email, "demo", db)).toEqual({ id: user.id, email, name: "Old Hash" });
    const rehashed = (await db.user.findUniqueOrThrow({ where: { id: user.id } })).passwordHash!;
    expect(rehashed).toMatch(/^scrypt\$131072\$8\$1\$/);
    expect(needsRehash(rehashed)).toBe(false);
    expect(await verifyPassword("demo", rehashed)).toBe(true);

    // And signs in with the new one, leaving it alone.
    expect(await findUserByPassword(email.toUpperCase(), "demo", db)).toMatchObject({ id: user.id });
    expect((await db.user.findUniqueOrThrow({ where: { id: user.id } })).passwordHash).toBe(rehashed);
  });

  it("never signs in an unknown email or a user without a password", async () => {
    expect(await findUserByPassword(`nobody-${randomUUID()}@acme.test`, "demo", db)).toBeNull();
    const email = `provider-only-${randomUUID()}@acme.test`;
    await db.user.create({ data: { email, name: "Provider Only" } });
    expect(await findUserByPassword(email, "", db)).toBeNull();
    expect(await findUserByPassword(email, "demo", db)).toBeNull();
  });
});
