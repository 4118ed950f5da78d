import { describe, expect, it } from "vitest";
import { errorForStatus, retryAfterSecondsFor } from "@/lib/buildkite/errors";
import { parseRateLimit } from "@/lib/buildkite/rate-limit";

// The example from Buildkite's rate-limit docs (pages/apis/rest_api/rate_limits.md), as undici hands headers over.
const DOCS_HEADERS = {
  "ratelimit-user-scope": "rest_user",
  "ratelimit-user-remaining": "35",
  "ratelimit-user-limit": "50",
  "ratelimit-user-reset": "42",
  "ratelimit-scope": "rest",
  "ratelimit-remaining": "80",
  "ratelimit-limit": "200",
  "ratelimit-reset": "42",
};

describe("parseRateLimit", () => {
  it("reads both documented sets", () => {
    expect(parseRateLimit(DOCS_HEADERS)).toEqual({
      scope: "rest",
      limit: 200,
      remaining: 80,
      resetSeconds: 42,
      user: { limit: 50, remaining: 35, resetSeconds: 42 },
    });
  });

  it("gives nulls for absent headers, and no user set when none of it came", () => {
    expect(parseRateLimit({})).toEqual({ scope: null, limit: null, remaining: null, resetSeconds: null, user: null });
    expect(parseRateLimit({ "ratelimit-user-remaining": "3" }).user).toEqual({ limit: null, remaining: 3, resetSeconds: null });
  });

  it.each([
    ["negative", "-1"],
    ["fractional", "1.5"],
    ["text", "soon"],
    ["empty", ""],
    ["huge", "99999999999"],
    ["repeated", ["1", "2"]],
  ])("reads a %s value as null", (_label, value) => {
    const info = parseRateLimit({ "ratelimit-remaining": value, "ratelimit-user-reset": value });
    expect(info.remaining).toBeNull();
    expect(info.user).toBeNull();
  });

  it("trims whitespace and passes on only a short identifier as scope", () => {
    expect(parseRateLimit({ "ratelimit-remaining": " 7 ", "ratelimit-scope": " rest " })).toMatchObject({ remaining: 7, scope: "rest" });
    expect(parseRateLimit({ "ratelimit-scope": "<script>alert(1)</script>" }).scope).toBeNull();
  });
});

describe("retryAfterSecondsFor", () => {
  const info = (user: { remaining: number; reset: number }, org: { remaining: number; reset: number }) =>
    parseRateLimit({
      ...DOCS_HEADERS,
      "ratelimit-user-remaining": String(user.remaining),
      "ratelimit-user-reset": String(user.reset),
      "ratelimit-remaining": String(org.remaining),
      "ratelimit-reset": String(org.reset),
    });

  it("waits for the window that is used up", () => {
    expect(retryAfterSecondsFor(info({ remaining: 0, reset: 12 }, { remaining: 90, reset: 50 }), {})).toBe(12);
    expect(retryAfterSecondsFor(info({ remaining: 20, reset: 12 }, { remaining: 0, reset: 50 }), {})).toBe(50);
  });

  it("falls back to the body's reset, then the longer header reset, then a minute", () => {
    expect(retryAfterSecondsFor(info({ remaining: 5, reset: 12 }, { remaining: 5, reset: 50 }), { reset: 30 })).toBe(30);
    expect(retryAfterSecondsFor(info({ remaining: 5, reset: 12 }, { remaining: 5, reset: 50 }), {})).toBe(50);
    expect(retryAfterSecondsFor(parseRateLimit({}), { message: "slow down" })).toBe(60);
  });
});

describe("errorForStatus", () => {
  it("maps 404 to not_found", () => {
    expect(errorForStatus(404, { message: "Not Found" }, undefined)).toMatchObject({ code: "not_found", status: 404 });
  });

  it("still accepts the raw RateLimit-Reset header", () => {
    expect(errorForStatus(429, {}, "17").retryAfterSeconds).toBe(17);
    expect(errorForStatus(429, {}, parseRateLimit(DOCS_HEADERS)).retryAfterSeconds).toBe(42);
  });
});
