import { describe, expect, it, vi } from "vitest";
import { addressKey, clientAddressFrom } from "@/lib/auth/client-address";
import { attemptPasswordSignIn } from "@/lib/auth/password-sign-in";
import { createSignInThrottle, SIGN_IN_LIMITS, tooManyAttemptsMessage } from "@/lib/auth/sign-in-throttle";
import type { SignedInUser } from "@/lib/auth/users";
import { createMemoryLimiter } from "@/lib/rate-limits/shared-limiter";

const memoryThrottle = (limits = SIGN_IN_LIMITS) =>
  createSignInThrottle({
    account: createMemoryLimiter({ points: limits.perAccount, windowSeconds: limits.windowSeconds }),
    address: createMemoryLimiter({ points: limits.perAddress, windowSeconds: limits.windowSeconds }),
  });

const ADA: SignedInUser = { id: "user-ada", email: "admin@acme.test", name: "Ada Admin" };
/** A user store where only Ada's password "demo" is right. */
const findUserByPassword = vi.fn(async (email: string, password: string) => (email.toLowerCase() === ADA.email && password === "demo" ? ADA : null));

describe("attemptPasswordSignIn", () => {
  it("allows 10 failures per account in 15 minutes, then refuses without checking the password", async () => {
    const throttle = memoryThrottle();
    findUserByPassword.mockClear();
    for (let attempt = 1; attempt <= 10; attempt++) {
      expect(await attemptPasswordSignIn({ email: ADA.email, password: "guess", address: `198.51.100.${attempt}` }, { throttle, findUserByPassword })).toEqual({
        ok: false,
        reason: "invalid",
      });
    }
    // From yet another address, and even with the right password: the account has no attempts left.
    const refused = await attemptPasswordSignIn({ email: "Admin@Acme.test", password: "demo", address: "198.51.100.99" }, { throttle, findUserByPassword });
    expect(refused).toMatchObject({ ok: false, reason: "throttled" });
    expect(refused.ok === false && refused.reason === "throttled" && refused.retryAfterSeconds).toBeGreaterThan(14 * 60);
    expect(findUserByPassword).toHaveBeenCalledTimes(10);
  });

  it("treats an account that does not exist exactly like one that does", async () => {
    const throttle = memoryThrottle();
    const outcomes = [];
    for (const email of [ADA.email, "nobody@acme.test"]) {
      for (let attempt = 0; attempt < 10; attempt++) await attemptPasswordSignIn({ email, password: "guess", address: "203.0.113.1" }, { throttle, findUserByPassword });
      outcomes.push(await attemptPasswordSignIn({ email, password: "guess", address: "203.0.113.2" }, { throttle, findUserByPassword }));
    }
    expect(outcomes[0]).toMatchObject({ ok: false, reason: "throttled" });
    expect(outcomes[1]).toMatchObject({ ok: false, reason: "throttled" });
  });

  it("a successful sign-in resets the account's count", async () => {
    const throttle = memoryThrottle();
    for (let attempt = 0; attempt < 9; attempt++) await attemptPasswordSignIn({ email: ADA.email, password: "guess", address: "192.0.2.1" }, { throttle, findUserByPassword });
    expect(await attemptPasswordSignIn({ email: ADA.email, password: "demo", address: "192.0.2.1" }, { throttle, findUserByPassword })).toEqual({ ok: true, user: ADA });
    // Ten more failures before the account is refused again.
    for (let attempt = 0; attempt < 10; attempt++) {
      expect(await attemptPasswordSignIn({ email: ADA.email, password: "guess", address: "192.0.2.1" }, { throttle, findUserByPassword })).toMatchObject({ reason: "invalid" });
    }
    expect(await attemptPasswordSignIn({ email: ADA.email, password: "guess", address: "192.0.2.1" }, { throttle, findUserByPassword })).toMatchObject({ reason: "throttled" });
  });

  it("allows 50 failures per address in 15 minutes, across accounts, then refuses every account from it", async () => {
    const throttle = memoryThrottle();
    for (let attempt = 0; attempt < 50; attempt++) {
      expect(
        await attemptPasswordSignIn({ email: `person${attempt}@acme.test`, password: "guess", address: "203.0.113.7" }, { throttle, findUserByPassword }),
      ).toMatchObject({ reason: "invalid" });
    }
    expect(await attemptPasswordSignIn({ email: ADA.email, password: "demo", address: "203.0.113.7" }, { throttle, findUserByPassword })).toMatchObject({
      reason: "throttled",
    });
    // Another address is not affected, and the refusals from the spent address did not use up Ada's attempts.
    expect(await attemptPasswordSignIn({ email: ADA.email, password: "demo", address: "203.0.113.8" }, { throttle, findUserByPassword })).toEqual({ ok: true, user: ADA });
  });

  it("successes from an address do not count towards its failures", async () => {
    const throttle = memoryThrottle({ perAccount: 10, perAddress: 3, windowSeconds: 900 });
    for (let attempt = 0; attempt < 10; attempt++) {
      expect(await attemptPasswordSignIn({ email: ADA.email, password: "demo", address: "192.0.2.50" }, { throttle, findUserByPassword })).toMatchObject({ ok: true });
    }
  });
});

describe("tooManyAttemptsMessage", () => {
  it.each([
    [1, "Too many attempts. Try again in 1 minute."],
    [60, "Too many attempts. Try again in 1 minute."],
    [61, "Too many attempts. Try again in 2 minutes."],
    [900, "Too many attempts. Try again in 15 minutes."],
  ])("%i s → %s", (seconds, message) => {
    expect(tooManyAttemptsMessage(seconds)).toBe(message);
  });
});

describe("the client address", () => {
  it("is the last X-Forwarded-For entry: the one Next (the socket) or the trusted proxy wrote", () => {
    expect(clientAddressFrom("203.0.113.9")).toBe("203.0.113.9");
    expect(clientAddressFrom("1.2.3.4, 203.0.113.9")).toBe("203.0.113.9");
    expect(clientAddressFrom(" 1.2.3.4 ,203.0.113.9 ")).toBe("203.0.113.9");
    expect(clientAddressFrom(null)).toBeNull();
    expect(clientAddressFrom("")).toBeNull();
    expect(clientAddressFrom("not an address")).toBeNull();
  });

  it("counts IPv4-mapped IPv6 as IPv4, and IPv6 per /64", () => {
    expect(addressKey("::ffff:127.0.0.1")).toBe("127.0.0.1");
    expect(addressKey("::1")).toBe("0:0:0:0::/64");
    expect(addressKey("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(addressKey("2001:0db8:0001:0002:bbbb:cccc:dddd:eeee")).toBe("2001:db8:1:2::/64");
    expect(addressKey("[2001:db8::1]")).toBe("2001:db8:0:0::/64");
    expect(addressKey("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
  });
});
