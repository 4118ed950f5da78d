import "server-only";

import { createHash } from "node:crypto";
import type pg from "pg";
import { getRateLimitPool } from "@/lib/db/client";
import { createSharedLimiter, type LimitDecision, type SharedLimiter } from "@/lib/rate-limits/shared-limiter";
import { normaliseEmail } from "./email";

/**
 * Password sign-in attempts, counted in Postgres (rate-limiter-flexible) so every instance shares the count: at
 * most 10 per account and 50 per client address in 15 minutes. An attempt is counted before the password is checked
 * (so parallel guesses cannot slip past the count), and a successful sign-in gives it back: the account's count
 * starts afresh and the address's attempt is returned, so only failures add up. A refused attempt checks no password
 * and says only when to try again, the same for an account that exists and one that does not.
 */

export const SIGN_IN_LIMITS = { perAccount: 10, perAddress: 50, windowSeconds: 15 * 60 };

export type ThrottleDecision = LimitDecision;

export type SignInThrottle = {
  /** Counts one attempt for the account and the address; refused when either has none left. */
  attempt(email: string, address: string | null): Promise<ThrottleDecision>;
  /** The password was right: the account starts afresh, and the address gets its attempt back. */
  succeeded(email: string, address: string | null): Promise<void>;
};

// A table of its own beside the API's in the rate_limits schema, on the same pool (lib/rate-limits/shared-limiter.ts).
const TABLE = "sign_in_attempts";

/** Accounts are counted by a hash of the address: the table never holds who tried to sign in. */
const accountKey = (email: string) => createHash("sha256").update(normaliseEmail(email)).digest("hex").slice(0, 40);
const addressKeyOrUnknown = (address: string | null) => address ?? "unknown";

export function createSignInThrottle(limiters: { account: SharedLimiter; address: SharedLimiter }): SignInThrottle {
  return {
    async attempt(email, address) {
      // The address first: a client that has spent its attempts does not also use up the account's.
      const byAddress = await limiters.address.take(addressKeyOrUnknown(address));
      if (!byAddress.ok) return byAddress;
      return limiters.account.take(accountKey(email));
    },
    async succeeded(email, address) {
      await Promise.all([limiters.account.forget(accountKey(email)), limiters.address.giveBack(addressKeyOrUnknown(address), 1)]);
    },
  };
}

export function postgresSignInThrottle(pool: pg.Pool, limits = SIGN_IN_LIMITS): SignInThrottle {
  const limiter = (keyPrefix: string, points: number) => createSharedLimiter(pool, { table: TABLE, keyPrefix, points, windowSeconds: limits.windowSeconds });
  return createSignInThrottle({ account: limiter("sign-in-account", limits.perAccount), address: limiter("sign-in-address", limits.perAddress) });
}

const globalForThrottle = globalThis as typeof globalThis & { __signInThrottle?: SignInThrottle };

/** The process's one throttle, on the rate limiter's pool. */
export function getSignInThrottle(): SignInThrottle {
  globalForThrottle.__signInThrottle ??= postgresSignInThrottle(getRateLimitPool());
  return globalForThrottle.__signInThrottle;
}

/** "Too many attempts. Try again in N minutes." — never whether the account exists. */
export function tooManyAttemptsMessage(retryAfterSeconds: number): string {
  const minutes = Math.max(1, Math.ceil(retryAfterSeconds / 60));
  return `Too many attempts. Try again in ${minutes} ${minutes === 1 ? "minute" : "minutes"}.`;
}
