import { describe, expect, it } from "vitest";
import { REQUIRED_SCOPE_NAMES } from "@/lib/buildkite/scopes";
import { assessToken, EXPIRY_WARNING_DAYS, tokenWarnings } from "@/lib/integrations/buildkite/policy";

const DAY_MS = 24 * 60 * 60 * 1000;
const NOW = new Date("2026-03-10T12:00:00.000Z");
const after = (ms: number) => new Date(NOW.getTime() + ms);
const ALL = [...REQUIRED_SCOPE_NAMES];

describe("assessToken", () => {
  it("accepts a token with exactly the nine scopes and no expiry, without warnings", () => {
    expect(assessToken({ scopes: ALL, expiresAt: null }, NOW)).toEqual({ ok: true, warnings: [] });
  });

  it("calls a token expiring exactly now expired", () => {
    expect(assessToken({ scopes: ALL, expiresAt: after(0) }, NOW)).toEqual({ ok: false, code: "token_expired", expiredAt: after(0) });
  });

  it("calls a token that expired a day ago expired, and one with a millisecond left not", () => {
    expect(assessToken({ scopes: ALL, expiresAt: after(-DAY_MS) }, NOW)).toEqual({
      ok: false,
      code: "token_expired",
      expiredAt: after(-DAY_MS),
    });
    expect(assessToken({ scopes: ALL, expiresAt: after(1) }, NOW)).toMatchObject({ ok: true });
  });

  it("reports expiry before missing scopes (a new token is needed either way)", () => {
    const scopes = ALL.filter((scope) => scope !== "read_builds");
    expect(assessToken({ scopes, expiresAt: after(-1) }, NOW)).toEqual({ ok: false, code: "token_expired", expiredAt: after(-1) });
  });

  it("reports missing scopes in the required order, ahead of any warning", () => {
    const scopes = ["write_builds", ...ALL.filter((scope) => scope !== "read_suites" && scope !== "read_job_env")].reverse();
    expect(assessToken({ scopes, expiresAt: after(DAY_MS) }, NOW)).toEqual({
      ok: false,
      code: "missing_scopes",
      missing: ["read_job_env", "read_suites"],
    });
  });

  it("names all nine when the token has none", () => {
    expect(assessToken({ scopes: [], expiresAt: null }, NOW)).toEqual({ ok: false, code: "missing_scopes", missing: ALL });
  });

  it("passes the warnings of a usable token through", () => {
    expect(assessToken({ scopes: [...ALL, "write_builds"], expiresAt: after(2 * DAY_MS) }, NOW)).toEqual({
      ok: true,
      warnings: [
        { code: "expires_soon", expiresAt: after(2 * DAY_MS), daysLeft: 2 },
        { code: "broader_scopes", extra: ["write_builds"], writeScopes: ["write_builds"] },
      ],
    });
  });
});

describe("tokenWarnings", () => {
  const expiringIn = (ms: number) => tokenWarnings({ scopes: ALL, expiresAt: after(ms) }, NOW);

  it("warns from exactly 7 days out, not a millisecond before", () => {
    expect(EXPIRY_WARNING_DAYS).toBe(7);
    expect(expiringIn(7 * DAY_MS)).toEqual([{ code: "expires_soon", expiresAt: after(7 * DAY_MS), daysLeft: 7 }]);
    expect(expiringIn(7 * DAY_MS + 1)).toEqual([]);
    expect(expiringIn(30 * DAY_MS)).toEqual([]);
  });

  it.each([
    { left: 1, daysLeft: 1 },
    { left: 60 * 60 * 1000, daysLeft: 1 },
    { left: DAY_MS, daysLeft: 1 },
    { left: DAY_MS + 1, daysLeft: 2 },
    { left: 3 * DAY_MS - 60_000, daysLeft: 3 },
    { left: 3 * DAY_MS, daysLeft: 3 },
    { left: 6.5 * DAY_MS, daysLeft: 7 },
  ])("rounds $left ms left up to $daysLeft day(s)", ({ left, daysLeft }) => {
    expect(expiringIn(left)).toEqual([{ code: "expires_soon", expiresAt: after(left), daysLeft }]);
  });

  it("does not warn about expiry for a token that never expires or has already expired", () => {
    expect(tokenWarnings({ scopes: ALL, expiresAt: null }, NOW)).toEqual([]);
    expect(expiringIn(0)).toEqual([]);
    expect(expiringIn(-DAY_MS)).toEqual([]);
  });

  it("lists extra scopes sorted and without duplicates, with the write ones separately", () => {
    const scopes = [...ALL, "write_pipelines", "read_agents", "write_builds", "read_agents"];
    expect(tokenWarnings({ scopes, expiresAt: null }, NOW)).toEqual([
      { code: "broader_scopes", extra: ["read_agents", "write_builds", "write_pipelines"], writeScopes: ["write_builds", "write_pipelines"] },
    ]);
  });

  it("counts delete_ scopes and graphql as able to change things", () => {
    const scopes = [...ALL, "graphql", "delete_packages", "read_clusters"];
    expect(tokenWarnings({ scopes, expiresAt: null }, NOW)).toEqual([
      { code: "broader_scopes", extra: ["delete_packages", "graphql", "read_clusters"], writeScopes: ["delete_packages", "graphql"] },
    ]);
  });

  it("warns about read-only extras with no write scopes", () => {
    expect(tokenWarnings({ scopes: [...ALL, "read_agents"], expiresAt: null }, NOW)).toEqual([
      { code: "broader_scopes", extra: ["read_agents"], writeScopes: [] },
    ]);
  });

  it("gives the expiry warning first when both apply", () => {
    const warnings = tokenWarnings({ scopes: [...ALL, "write_builds"], expiresAt: after(DAY_MS) }, NOW);
    expect(warnings.map((warning) => warning.code)).toEqual(["expires_soon", "broader_scopes"]);
  });
});
