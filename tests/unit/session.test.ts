import { encode } from "next-auth/jwt";
import { describe, expect, it, vi } from "vitest";
import { userIdFromSessionCookie } from "@/lib/auth/session";

// The signed-in user as pages read it (lib/auth/session.ts): Auth.js's own session cookie, decrypted with Auth.js's
// getToken, and remembered per cookie only while Auth.js itself would accept it.

const SECRET = "a-test-secret-of-at-least-thirty-two-characters";
const NAME = "authjs.session-token";
const SECURE_NAME = "__Secure-authjs.session-token";

async function sessionCookie(claims: Record<string, unknown>, options: { secret?: string; maxAge?: number; name?: string } = {}) {
  const name = options.name ?? NAME;
  const value = await encode({ token: claims, secret: options.secret ?? SECRET, salt: name, maxAge: options.maxAge ?? 3600 });
  return `${name}=${value}`;
}

const read = (cookie: string, secureCookie = false) => userIdFromSessionCookie(cookie, { secret: SECRET, secureCookie });

describe("the signed-in user, from the session cookie", () => {
  it("is the user id of a cookie Auth.js issued, under the cookie name Auth.js uses for the protocol", async () => {
    const cookie = await sessionCookie({ userId: "user-1", email: "ada@acme.test" });
    expect(await read(`theme=dark; ${cookie}`)).toBe("user-1");
    // Over https Auth.js names the cookie __Secure-…: the plain name is then not a session, and the other way round.
    expect(await read(cookie, true)).toBeNull();
    const secure = await sessionCookie({ userId: "user-2" }, { name: SECURE_NAME });
    expect(await read(secure, true)).toBe("user-2");
    expect(await read(secure, false)).toBeNull();
  });

  it("is nobody without a cookie, with a cookie made with another secret, altered, or without a user", async () => {
    expect(await read("")).toBeNull();
    expect(await read(await sessionCookie({ userId: "user-1" }, { secret: "another-secret-of-at-least-thirty-two-chars" }))).toBeNull();
    const cookie = await sessionCookie({ userId: "user-3" });
    const altered = cookie.slice(0, -6) + (cookie.endsWith("AAAAAA") ? "BBBBBB" : "AAAAAA");
    expect(await read(altered)).toBeNull();
    expect(await read(await sessionCookie({ email: "someone@acme.test" }))).toBeNull();
  });

  it("is nobody once Auth.js would refuse the session, even after it was read and remembered", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      const cookie = await sessionCookie({ userId: "user-4" }, { maxAge: 60 });
      expect(await read(cookie)).toBe("user-4");
      vi.setSystemTime(Date.now() + 30_000);
      expect(await read(cookie)).toBe("user-4");
      // Past the expiry and Auth.js's 15 s of clock tolerance: refused, although this cookie was remembered.
      vi.setSystemTime(Date.now() + 46_000);
      expect(await read(cookie)).toBeNull();
    } finally {
      vi.useRealTimers();
    }
  });
});
