import { randomUUID } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import { REQUIRED_SCOPE_NAMES } from "@/lib/buildkite/scopes";
import { nextCheckAt, phaseOf, RETRY_AFTER_UNREACHABLE_MS, retryCheckAt } from "@/lib/integrations/buildkite/check-timing";
import { healthOfToken } from "@/lib/integrations/buildkite/health";
import { connectionLockKey } from "@/lib/integrations/buildkite/lock";
import { EXPIRY_WARNING_DAYS } from "@/lib/integrations/buildkite/policy";

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
const NOW = new Date("2026-05-21T12:00:00.000Z");
const ALL_SCOPES: readonly string[] = REQUIRED_SCOPE_NAMES;
const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs);

describe("healthOfToken", () => {
  it("is connected for a token with every scope that never expires", () => {
    expect(healthOfToken({ scopes: ALL_SCOPES, expiresAt: null }, NOW)).toEqual({ status: "connected" });
  });

  it("is connected for a token that expires far in the future, extra scopes or not", () => {
    expect(healthOfToken({ scopes: ALL_SCOPES, expiresAt: at(365 * DAY_MS) }, NOW)).toEqual({ status: "connected" });
    expect(healthOfToken({ scopes: [...ALL_SCOPES, "write_builds"], expiresAt: null }, NOW)).toEqual({ status: "connected" });
  });

  it("needs attention for an expired token, naming when it expired", () => {
    const expiresAt = at(-DAY_MS);
    expect(healthOfToken({ scopes: ALL_SCOPES, expiresAt }, NOW)).toEqual({
      status: "needs_attention",
      attention: { code: "token_expired", expiresAt: expiresAt.toISOString() },
    });
  });

  it("counts a token expiring this very moment as expired", () => {
    expect(healthOfToken({ scopes: ALL_SCOPES, expiresAt: NOW }, NOW)).toMatchObject({ attention: { code: "token_expired" } });
    expect(healthOfToken({ scopes: ALL_SCOPES, expiresAt: at(1) }, NOW)).toMatchObject({ attention: { code: "expires_soon" } });
  });

  it("needs attention for missing scopes, listed in the order the page shows them", () => {
    const scopes = ALL_SCOPES.filter((scope) => scope !== "read_suites" && scope !== "read_builds");
    expect(healthOfToken({ scopes, expiresAt: null }, NOW)).toEqual({
      status: "needs_attention",
      attention: { code: "missing_scopes", missingScopes: ["read_builds", "read_suites"] },
    });
  });

  it("reports expiry before missing scopes, and missing scopes before an expiry that is only close", () => {
    const scopes = ALL_SCOPES.slice(1);
    expect(healthOfToken({ scopes, expiresAt: at(-1) }, NOW)).toMatchObject({ attention: { code: "token_expired" } });
    expect(healthOfToken({ scopes, expiresAt: at(DAY_MS) }, NOW)).toMatchObject({ attention: { code: "missing_scopes" } });
  });

  it("warns that a token expires soon within 7 days", () => {
    expect(EXPIRY_WARNING_DAYS).toBe(7);
    const expiresAt = at(3 * DAY_MS);
    expect(healthOfToken({ scopes: ALL_SCOPES, expiresAt }, NOW)).toEqual({
      status: "needs_attention",
      attention: { code: "expires_soon", expiresAt: expiresAt.toISOString() },
    });
  });

  it("warns at exactly 7 days, and not a millisecond later", () => {
    expect(healthOfToken({ scopes: ALL_SCOPES, expiresAt: at(7 * DAY_MS) }, NOW)).toMatchObject({ attention: { code: "expires_soon" } });
    expect(healthOfToken({ scopes: ALL_SCOPES, expiresAt: at(7 * DAY_MS + 1) }, NOW)).toEqual({ status: "connected" });
  });
});

describe("nextCheckAt", () => {
  const INTERVALS = [5, 60, 360, 10_080];

  it("is always at least a minute and at most one interval plus a minute after `after`", () => {
    for (const interval of INTERVALS) {
      for (let i = 0; i < 2_000; i += 1) {
        const after = new Date(NOW.getTime() + Math.floor(Math.random() * 30 * DAY_MS));
        const gap = nextCheckAt(randomUUID(), after, interval).getTime() - after.getTime();
        expect(gap).toBeGreaterThanOrEqual(MINUTE_MS);
        expect(gap).toBeLessThanOrEqual(interval * MINUTE_MS + MINUTE_MS);
      }
    }
  });

  it("lands on the organisation's own phase of the interval", () => {
    for (const interval of INTERVALS) {
      const intervalMs = interval * MINUTE_MS;
      for (let i = 0; i < 200; i += 1) {
        const organizationId = randomUUID();
        const next = nextCheckAt(organizationId, at(Math.floor(Math.random() * DAY_MS)), interval).getTime();
        expect((((next - phaseOf(organizationId, intervalMs)) % intervalMs) + intervalMs) % intervalMs).toBe(0);
      }
    }
  });

  it("keeps an organisation's slot from one check to the next", () => {
    for (const interval of INTERVALS) {
      for (let i = 0; i < 200; i += 1) {
        const organizationId = randomUUID();
        const first = nextCheckAt(organizationId, at(Math.floor(Math.random() * DAY_MS)), interval);
        const second = nextCheckAt(organizationId, first, interval);
        const third = nextCheckAt(organizationId, second, interval);
        expect(second.getTime() - first.getTime()).toBe(interval * MINUTE_MS);
        expect(third.getTime() - second.getTime()).toBe(interval * MINUTE_MS);
      }
    }
  });

  it("is the same for the same organisation and moment, whoever asks", () => {
    const organizationId = randomUUID();
    expect(nextCheckAt(organizationId, NOW, 360)).toEqual(nextCheckAt(organizationId, new Date(NOW), 360));
  });

  it("skips a slot less than a minute away", () => {
    const organizationId = randomUUID();
    const slot = nextCheckAt(organizationId, NOW, 60);
    const justBefore = new Date(slot.getTime() - 30_000);
    expect(nextCheckAt(organizationId, justBefore, 60).getTime()).toBe(slot.getTime() + 60 * MINUTE_MS);
    const wellBefore = new Date(slot.getTime() - 2 * MINUTE_MS);
    expect(nextCheckAt(organizationId, wellBefore, 60)).toEqual(slot);
  });

  it.each([360, 10_080])("spreads 10,000 organisations connected in the same minute evenly over %i minutes", (interval) => {
    const intervalMs = interval * MINUTE_MS;
    const buckets = Array.from({ length: 10 }, () => 0);
    for (let i = 0; i < 10_000; i += 1) {
      const gap = nextCheckAt(randomUUID(), NOW, interval).getTime() - NOW.getTime();
      buckets[Math.min(9, Math.floor(((gap % intervalMs) / intervalMs) * 10))]! += 1;
    }
    for (const count of buckets) {
      expect(count).toBeGreaterThanOrEqual(700);
      expect(count).toBeLessThanOrEqual(1_300);
    }
  });
});

describe("retryCheckAt", () => {
  it("waits past Buildkite's rate-limit reset when it gave one, with under 30 s of jitter", () => {
    for (let i = 0; i < 500; i += 1) {
      const gap = retryCheckAt(NOW, 360, 42).getTime() - NOW.getTime();
      expect(gap).toBeGreaterThanOrEqual(42_000);
      expect(gap).toBeLessThan(42_000 + 30_000);
    }
  });

  it("otherwise retries within 15 minutes plus jitter", () => {
    expect(RETRY_AFTER_UNREACHABLE_MS).toBe(15 * MINUTE_MS);
    for (let i = 0; i < 500; i += 1) {
      const gap = retryCheckAt(NOW, 360).getTime() - NOW.getTime();
      expect(gap).toBeGreaterThanOrEqual(15 * MINUTE_MS);
      expect(gap).toBeLessThan(15 * MINUTE_MS + 30_000);
    }
  });

  it("never waits longer than the interval itself when the interval is shorter than 15 minutes", () => {
    for (let i = 0; i < 500; i += 1) {
      const gap = retryCheckAt(NOW, 5).getTime() - NOW.getTime();
      expect(gap).toBeGreaterThanOrEqual(5 * MINUTE_MS);
      expect(gap).toBeLessThan(5 * MINUTE_MS + 30_000);
    }
  });

  it("uses the whole jitter range", () => {
    vi.spyOn(Math, "random").mockReturnValue(0);
    expect(retryCheckAt(NOW, 360).getTime() - NOW.getTime()).toBe(15 * MINUTE_MS);
    vi.spyOn(Math, "random").mockReturnValue(0.999_999);
    expect(retryCheckAt(NOW, 360, 10).getTime() - NOW.getTime()).toBe(10_000 + 29_999);
  });
});

describe("connectionLockKey", () => {
  const inInt4 = (value: number) => Number.isInteger(value) && value >= 0 && value <= 0x7fffffff;

  it("is stable for an organisation", () => {
    const organizationId = randomUUID();
    expect(connectionLockKey(organizationId)).toEqual(connectionLockKey(organizationId));
    expect(connectionLockKey("org_fixed")).toEqual(connectionLockKey("org_fixed"));
  });

  it("keeps both halves within 0..2^31-1 (Postgres int4)", () => {
    for (let i = 0; i < 2_000; i += 1) {
      const [classId, objectId] = connectionLockKey(randomUUID());
      expect(inInt4(classId)).toBe(true);
      expect(inInt4(objectId)).toBe(true);
    }
  });

  it("shares the class half across organisations and differs in the object half", () => {
    // Fixed ids, so the test cannot flake on a (legitimate, vanishingly rare) 31-bit collision.
    const keys = Array.from({ length: 2_000 }, (_, index) => connectionLockKey(`org-${index}`));
    expect(new Set(keys.map(([classId]) => classId)).size).toBe(1);
    expect(new Set(keys.map(([, objectId]) => objectId)).size).toBe(keys.length);
    expect(connectionLockKey("org-a")).not.toEqual(connectionLockKey("org-b"));
  });
});
