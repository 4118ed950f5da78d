// The sign-in throttle on a real Postgres (rate-limiter-flexible's RateLimiterPostgres in the rate_limits schema),
// sharing one pool with the API's limiter as the app does.
import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, inject, it } from "vitest";
import { createApiRateLimiter } from "@/lib/api/rate-limit";
import { postgresSignInThrottle } from "@/lib/auth/sign-in-throttle";
import { createPgPool } from "@/lib/db/client";

// One connection: every limiter's prepared statements meet on it, as they would on a busy pool.
const pool = createPgPool(inject("databaseUrl"), { max: 1, waitMs: 5_000, name: "test-sign-in-throttle" });
afterAll(() => pool.end());

describe("postgresSignInThrottle", () => {
  it("counts per account and per address in Postgres, and a success resets the account", async () => {
    const throttle = postgresSignInThrottle(pool, { perAccount: 3, perAddress: 5, windowSeconds: 900 });
    const email = `ada-${randomUUID()}@acme.test`;
    const address = `198.51.100.${Math.floor(Math.random() * 200)}`;

    for (let attempt = 0; attempt < 3; attempt++) expect(await throttle.attempt(email, address)).toEqual({ ok: true });
    const refused = await throttle.attempt(email, address);
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.retryAfterSeconds).toBeGreaterThan(800);

    await throttle.succeeded(email, address);
    expect(await throttle.attempt(email, address)).toEqual({ ok: true });

    // Five attempts from the address so far, one given back by the success: one left. The count lives in the
    // database, so a second throttle (another instance) sees it.
    const otherInstance = postgresSignInThrottle(pool, { perAccount: 3, perAddress: 5, windowSeconds: 900 });
    expect((await otherInstance.attempt(`someone-${randomUUID()}@acme.test`, address)).ok).toBe(true);
    expect((await otherInstance.attempt(`someone-${randomUUID()}@acme.test`, address)).ok).toBe(false);

    const { rows } = await pool.query<{ key: string }>(`SELECT key FROM rate_limits.sign_in_attempts`);
    // Accounts are kept as hashes: the table never says who tried to sign in.
    expect(rows.some((row) => row.key.includes(email))).toBe(false);
    expect(rows.some((row) => row.key === `sign-in-address:${address}`)).toBe(true);
  });

  it("shares the pool with the API's limiter without the two colliding", async () => {
    const api = createApiRateLimiter(pool, { perCaller: 100, perOrganization: 100 });
    const throttle = postgresSignInThrottle(pool);
    for (let round = 0; round < 3; round++) {
      expect(await api.consume(`caller-${randomUUID()}`, randomUUID())).toEqual({ ok: true });
      expect(await throttle.attempt(`x-${randomUUID()}@acme.test`, "192.0.2.77")).toEqual({ ok: true });
    }
  });
});
