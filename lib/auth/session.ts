import "server-only";

import { createHash } from "node:crypto";
import { LRUCache } from "lru-cache";
import { headers } from "next/headers";
import { getToken } from "next-auth/jwt";
import { getConfig } from "@/lib/config";

/**
 * Who is signed in, for pages, actions and the API: the user id in this request's session cookie, or null.
 *
 * Read with Auth.js's own `getToken` (its cookie names, chunking, key derivation and decryption; the token's expiry
 * is checked as it is decrypted) rather than `auth()`: in a server component `auth()` runs Auth.js's whole session
 * endpoint — decrypt the cookie, run the callbacks, encrypt a refreshed cookie, build and parse a JSON response —
 * and then drops the refreshed cookie, because a server component cannot set one. Our callbacks add nothing when no
 * one is signing in (auth.ts: `jwt` returns the token as it is, `session` copies `userId`), so the answer is the
 * same. Sessions are still issued, refreshed and ended only by Auth.js's routes.
 *
 * Only the Cookie header is given to `getToken`, as `auth()` gives only the cookie to its session endpoint: a
 * session is never taken from an Authorization header (the API's keys travel there).
 *
 * Decrypting a session costs about 0.8 ms of CPU (Web Crypto: key derivation, AES-CBC, HMAC; measured with
 * getToken alone), a sixth of the Integrations page's server time per view (docs/benchmarks.md, part 2), and a
 * person's browser sends the same cookie with every request. So a cookie that decrypted to a user is remembered, by
 * its SHA-256, until the token's own expiry, in this process's memory. That changes nothing about what is trusted:
 * only a cookie Auth.js accepted is remembered, never past the expiry Auth.js checks (without its 15 s of clock
 * tolerance), and sessions are stateless JWTs that signing out never revoked server-side anyway (the cookie is
 * cleared in the browser). What a person may do is decided by the membership, which is read from the database on
 * every request (membership.ts).
 */
export async function signedInUserId(): Promise<string | null> {
  const { secret, secureCookies } = getConfig().auth;
  if (!secret) return null;
  const requestHeaders = await headers();
  return userIdFromSessionCookie(requestHeaders.get("cookie") ?? "", {
    secret,
    // Auth.js's own rule for the cookie's name: our setting when there is one, else the request's protocol, which
    // Auth.js takes to be https when nothing says otherwise.
    secureCookie: secureCookies ?? (requestHeaders.get("x-forwarded-proto") ?? "https").startsWith("https"),
  });
}

/** The user id in a Cookie header's Auth.js session, or null: decrypted once, then remembered until it expires. */
export async function userIdFromSessionCookie(cookie: string, { secret, secureCookie }: { secret: string; secureCookie: boolean }): Promise<string | null> {
  const request = { req: { headers: { cookie } }, secureCookie };
  const raw = await getToken({ ...request, raw: true });
  if (!raw) return null;

  const key = createHash("sha256").update(secret).update("\0").update(String(secureCookie)).update("\0").update(raw).digest("base64url");
  const remembered = acceptedSessions.get(key);
  if (remembered && Date.now() < remembered.expiresAt) return remembered.userId;

  const token = await getToken({ ...request, secret });
  const userId = typeof token?.userId === "string" ? token.userId : null;
  const expiresAt = typeof token?.exp === "number" ? token.exp * 1000 : 0;
  // The entry ends at the token's expiry: checked against the clock above, and the cache drops it once stale.
  if (userId && expiresAt > Date.now()) acceptedSessions.set(key, { userId, expiresAt }, { ttl: expiresAt - Date.now() });
  return userId;
}

// Bounded, so memory stays flat however many sessions a process sees; a forgotten one is simply decrypted again.
// The secret is part of the key, so a changed AUTH_SECRET (a new process anyway) can never reuse an entry.
const acceptedSessions = new LRUCache<string, { userId: string; expiresAt: number }>({ max: 10_000 });
