import { describe, expect, it } from "vitest";
import { BuildkiteError, type BuildkiteErrorCode } from "@/lib/buildkite/errors";
import { REQUIRED_SCOPE_NAMES } from "@/lib/buildkite/scopes";
import type { ConnectResult } from "@/lib/integrations/buildkite/connect";
import type { DisconnectResult } from "@/lib/integrations/buildkite/disconnect";
import { buildkiteFailure, type ConnectionFailure, type ConnectionFailureCode } from "@/lib/integrations/buildkite/failures";
import { connectState, disconnectState, errorState, rotateState, verifyState } from "@/lib/integrations/buildkite/presentation/form-state";
import type { Attention, AttentionCode } from "@/lib/integrations/buildkite/health";
import {
  BUILDKITE_TOKENS_PAGE,
  BUSY_MESSAGE,
  describeAttention,
  describeFailure,
  describeOwnerChange,
  describeRevokeOfPrevious,
  describeWarning,
} from "@/lib/integrations/buildkite/presentation/messages";
import type { ReverifyResult } from "@/lib/integrations/buildkite/reverify";
import type { RotateResult } from "@/lib/integrations/buildkite/rotate";
import type { SecretStoreErrorCode } from "@/lib/secrets/store";

const EXPIRED_AT = new Date("2026-03-13T12:00:00.000Z");
const EXPIRED_AT_TEXT = "13 Mar 2026";
const ACME = { slug: "acme-inc", name: "Acme Inc" };

/** One failure of every code (the Record makes the compiler insist on all of them). */
const ONE_OF_EACH: Record<ConnectionFailureCode, ConnectionFailure> = {
  token_rejected: { code: "token_rejected" },
  token_forbidden: { code: "token_forbidden", scope: "read_builds" },
  rate_limited: { code: "rate_limited", retryAfterSeconds: 42 },
  buildkite_unreachable: { code: "buildkite_unreachable", reason: "timeout" },
  buildkite_unexpected_response: { code: "buildkite_unexpected_response" },
  token_expired: { code: "token_expired", expiredAt: EXPIRED_AT },
  missing_scopes: { code: "missing_scopes", missing: ["read_job_env", "read_suites"] },
  no_organizations: { code: "no_organizations" },
  organization_not_found: { code: "organization_not_found", slug: "wile-e-coyote" },
  organization_choice_required: { code: "organization_choice_required", organizations: [ACME, { slug: "acme-labs", name: "Acme Labs" }] },
  organization_mismatch: { code: "organization_mismatch", connected: ACME },
  token_already_connected: { code: "token_already_connected" },
  not_connected: { code: "not_connected" },
  busy: { code: "busy" },
  revoke_failed: { code: "revoke_failed", cause: { code: "buildkite_unreachable", reason: "unavailable" } },
  secret_store_failed: { code: "secret_store_failed", reason: "unavailable" },
  secret_unreadable: { code: "secret_unreadable", reason: "not_found" },
  database_failed: { code: "database_failed" },
  deadline_exceeded: { code: "deadline_exceeded", seconds: 25 },
  too_many_token_checks: { code: "too_many_token_checks", retryAfterSeconds: 600 },
};
const FAILURE_CODES = Object.keys(ONE_OF_EACH) as ConnectionFailureCode[];

const SECRET_STORE_REASONS: Record<SecretStoreErrorCode, true> = {
  access_denied: true,
  throttled: true,
  unavailable: true,
  timeout: true,
  encryption: true,
  misconfigured: true,
  not_found: true,
  corrupt: true,
};
const STORE_REASONS = Object.keys(SECRET_STORE_REASONS) as SecretStoreErrorCode[];
const UNREACHABLE_REASONS = ["timeout", "unavailable", "unreachable"] as const;

/** What can stop a revoke at Buildkite: every way of not reading the token, and every Buildkite refusal. */
const REVOKE_CAUSES: ConnectionFailure[] = [
  ...STORE_REASONS.map((reason): ConnectionFailure => ({ code: "secret_unreadable", reason })),
  { code: "rate_limited", retryAfterSeconds: 30 },
  ...UNREACHABLE_REASONS.map((reason): ConnectionFailure => ({ code: "buildkite_unreachable", reason })),
  { code: "buildkite_unexpected_response" },
  { code: "token_forbidden", scope: "read_user" },
  { code: "token_forbidden" },
  { code: "token_rejected" },
];

/** Every message an admin can be shown: each code, each sub-reason, and revoke_failed for each cause. */
const EVERY_FAILURE: ConnectionFailure[] = [
  ...Object.values(ONE_OF_EACH),
  { code: "token_forbidden" },
  { code: "missing_scopes", missing: ["read_user"] },
  ...UNREACHABLE_REASONS.map((reason): ConnectionFailure => ({ code: "buildkite_unreachable", reason })),
  ...STORE_REASONS.map((reason): ConnectionFailure => ({ code: "secret_store_failed", reason })),
  ...STORE_REASONS.map((reason): ConnectionFailure => ({ code: "secret_unreadable", reason })),
  ...REVOKE_CAUSES.map((cause): ConnectionFailure => ({ code: "revoke_failed", cause })),
];

// Each message tells the admin (or an operator) what to do next. "reload" is for not_connected ("Reload the page");
// "select" and "rotate" for the attention fixes ("select Verify now", "rotate to a new one").
const SAYS_WHAT_TO_DO = /\b(try again|wait|create|add|choose|make sure|check|an operator must|reload|rotate|select|connect)\b/i;
// What a token, or any other long random secret, would look like inside a sentence.
const TOKEN_LIKE = /bkua_|\b[A-Za-z0-9_-]{32,}\b/;
const BROKEN_TEXT = /undefined|null|NaN|\[object|\s,|\s\.|\s{2}/;

function expectGoodText(text: string, what: string) {
  expect(text.trim(), what).not.toBe("");
  expect(text, what).not.toMatch(TOKEN_LIKE);
  expect(text, what).not.toMatch(BROKEN_TEXT);
}

describe("buildkiteFailure", () => {
  const cases: Record<BuildkiteErrorCode, { details?: ConstructorParameters<typeof BuildkiteError>[2]; expected: ConnectionFailure }> = {
    unauthorized: { details: { status: 401 }, expected: { code: "token_rejected" } },
    forbidden: { details: { status: 403, missingScope: "read_job_env" }, expected: { code: "token_forbidden", scope: "read_job_env" } },
    // Only organisation calls can 404 while connecting: the token cannot reach it.
    not_found: { details: { status: 404, reason: "not found" }, expected: { code: "token_forbidden" } },
    rate_limited: { details: { status: 429, retryAfterSeconds: 42 }, expected: { code: "rate_limited", retryAfterSeconds: 42 } },
    timeout: { details: { reason: "time budget spent" }, expected: { code: "buildkite_unreachable", reason: "timeout" } },
    unavailable: { details: { status: 503 }, expected: { code: "buildkite_unreachable", reason: "unavailable" } },
    unreachable: { details: { reason: "connection refused" }, expected: { code: "buildkite_unreachable", reason: "unreachable" } },
    unexpected_response: { details: { status: 200, reason: "body is not JSON" }, expected: { code: "buildkite_unexpected_response" } },
  };

  it.each(Object.entries(cases))("maps %s", (code, { details, expected }) => {
    expect(buildkiteFailure(new BuildkiteError(code as BuildkiteErrorCode, "message", details))).toEqual(expected);
  });

  it("leaves the scope out of a plain 403", () => {
    const failure = buildkiteFailure(new BuildkiteError("forbidden", "Buildkite refused the call (403)", { status: 403 }));
    expect(failure).toMatchObject({ code: "token_forbidden" });
    expect((failure as { scope?: string }).scope).toBeUndefined();
  });

  it("waits a minute after a 429 that did not say how long", () => {
    expect(buildkiteFailure(new BuildkiteError("rate_limited", "429", { status: 429 }))).toEqual({ code: "rate_limited", retryAfterSeconds: 60 });
  });
});

describe("describeFailure", () => {
  it("gives each failure code its own title and its own message", () => {
    const texts = FAILURE_CODES.map((code) => describeFailure(ONE_OF_EACH[code]));
    expect(texts).toHaveLength(FAILURE_CODES.length);
    expect(new Set(texts.map((text) => text.title)).size).toBe(FAILURE_CODES.length);
    expect(new Set(texts.map((text) => text.message)).size).toBe(FAILURE_CODES.length);
    for (const text of texts) expect(text.title.trim().length).toBeGreaterThan(10);
  });

  it("says what happened and what to do for every failure, every sub-reason and every revoke cause", () => {
    expect(EVERY_FAILURE.length).toBeGreaterThan(50);
    for (const failure of EVERY_FAILURE) {
      const { title, message } = describeFailure(failure);
      const what = JSON.stringify(failure);
      expectGoodText(title, what);
      expectGoodText(message, what);
      expect(message, what).toMatch(SAYS_WHAT_TO_DO);
    }
  });

  it("never shows the same message for two failures with different codes", () => {
    const byMessage = new Map<string, ConnectionFailureCode>();
    for (const failure of EVERY_FAILURE) {
      const { message } = describeFailure(failure);
      const seen = byMessage.get(message);
      if (seen) expect(seen, message).toBe(failure.code);
      byMessage.set(message, failure.code);
    }
  });

  it("gives every secret-store reason a distinct message when storing fails", () => {
    const messages = STORE_REASONS.map((reason) => {
      const text = describeFailure({ code: "secret_store_failed", reason });
      expect(text.title).toBe("The token could not be stored securely");
      return text.message;
    });
    expect(new Set(messages).size).toBe(8);
  });

  it("sends an operator to the secret store when the stored token cannot be read for a lasting reason", () => {
    for (const reason of ["access_denied", "encryption", "corrupt", "misconfigured"] as const) {
      expect(describeFailure({ code: "secret_unreadable", reason }).message).toMatch(/an operator must check/);
    }
    expect(describeFailure({ code: "secret_unreadable", reason: "not_found" }).message).toContain("Rotate to a new token");
    for (const reason of ["throttled", "unavailable", "timeout"] as const) {
      expect(describeFailure({ code: "secret_unreadable", reason }).message).toMatch(/busy or unreachable\. Then try again\.$/);
    }
  });

  it("gives every unreachable reason a distinct message", () => {
    const messages = UNREACHABLE_REASONS.map((reason) => describeFailure({ code: "buildkite_unreachable", reason }).message);
    expect(new Set(messages).size).toBe(3);
  });

  it("says exactly this when another change is in progress", () => {
    expect(BUSY_MESSAGE).toBe("Another change to this connection is in progress. Try again in a moment.");
    expect(describeFailure({ code: "busy" }).message).toBe("Another change to this connection is in progress. Try again in a moment.");
  });

  it("fills in the facts each failure carries", () => {
    expect(describeFailure(ONE_OF_EACH.rate_limited).message).toContain("Wait 42 seconds");
    expect(describeFailure(ONE_OF_EACH.token_forbidden).message).toContain("lacks the read_builds scope");
    expect(describeFailure({ code: "token_forbidden" }).message).not.toContain("lacks");
    expect(describeFailure(ONE_OF_EACH.token_expired).message).toContain(`It expired on ${EXPIRED_AT_TEXT}.`);
    expect(describeFailure(ONE_OF_EACH.organization_not_found).message).toContain("“wile-e-coyote”");
    // A name that is not slug-shaped never reaches the use case's failure, so it is never repeated (found by fuzzing).
    expect(describeFailure({ code: "organization_not_found", slug: null }).message).toBe(
      "The token cannot reach the organisation named. Choose one of the organisations it reaches.",
    );
    expect(describeFailure(ONE_OF_EACH.organization_choice_required).message).toContain("can reach 2 organisations");
    expect(describeFailure(ONE_OF_EACH.organization_mismatch)).toEqual({
      title: "This token cannot reach Acme Inc",
      message: expect.stringContaining("(Acme Inc, “acme-inc”)"),
    });
    expect(describeFailure(ONE_OF_EACH.missing_scopes)).toEqual({
      title: "This token is missing 2 required scopes",
      message: expect.stringContaining("Add read_job_env and read_suites."),
    });
    expect(describeFailure({ code: "missing_scopes", missing: ["read_user"] }).title).toBe("This token is missing a required scope");
    expect(describeFailure({ code: "missing_scopes", missing: ["read_user"] }).message).toContain("Add read_user.");
    expect(describeFailure({ code: "missing_scopes", missing: ["read_builds", "read_teams", "read_user"] }).message).toContain(
      "Add read_builds, read_teams and read_user.",
    );
  });

  it("explains why a revoke failed, that nothing changed, and how to go on without it", () => {
    for (const cause of REVOKE_CAUSES) {
      const { title, message } = describeFailure({ code: "revoke_failed", cause });
      expect(title).toBe("The token could not be revoked at Buildkite");
      expect(message).toContain("Nothing was changed.");
      expect(message).toContain("Disconnect anyway");
      expect(message).toContain(BUILDKITE_TOKENS_PAGE);
    }
    expect(describeFailure({ code: "revoke_failed", cause: { code: "rate_limited", retryAfterSeconds: 30 } }).message).toContain("retry in 30 seconds");
    expect(describeFailure({ code: "revoke_failed", cause: { code: "secret_unreadable", reason: "not_found" } }).message).toContain(
      "could not be read to revoke it",
    );
    const causes = new Set(REVOKE_CAUSES.map((cause) => describeFailure({ code: "revoke_failed", cause }).message));
    // Store reasons share a sentence where the admin's next step is the same; Buildkite's refusals each say which.
    expect(causes.size).toBeGreaterThanOrEqual(8);
  });
});

describe("describeAttention", () => {
  /** One reason of every kind, with the facts each carries (the Record makes the compiler insist on all). */
  const EVERY_ATTENTION: Record<AttentionCode, Attention> = {
    token_rejected: { code: "token_rejected" },
    token_forbidden: { code: "token_forbidden" },
    token_expired: { code: "token_expired", expiresAt: EXPIRED_AT.toISOString() },
    missing_scopes: { code: "missing_scopes", missingScopes: ["read_suites", "read_user"] },
    organization_unreachable: { code: "organization_unreachable", organization: "acme-inc" },
    expires_soon: { code: "expires_soon", expiresAt: "2026-05-25T00:00:00.000Z" },
    secret_unreadable: { code: "secret_unreadable", reason: "access_denied" },
    buildkite_unreachable: { code: "buildkite_unreachable", since: "2026-05-20T08:30:00.000Z", reason: "buildkite_unreachable" },
  };

  it.each(Object.values(EVERY_ATTENTION))("says what is wrong and what to do ($code)", (attention) => {
    const { problem, fix } = describeAttention(attention);
    expectGoodText(problem, attention.code);
    expectGoodText(fix, attention.code);
    expect(fix).toMatch(SAYS_WHAT_TO_DO);
  });

  it("describes each reason differently", () => {
    const problems = Object.values(EVERY_ATTENTION).map((attention) => describeAttention(attention).problem);
    expect(new Set(problems).size).toBe(8);
  });

  it("names the facts it has", () => {
    expect(describeAttention(EVERY_ATTENTION.token_expired).problem).toContain(`expired on ${EXPIRED_AT_TEXT}`);
    expect(describeAttention(EVERY_ATTENTION.missing_scopes).problem).toContain("read_suites and read_user");
    expect(describeAttention(EVERY_ATTENTION.organization_unreachable).problem).toContain("“acme-inc”");
    expect(describeAttention(EVERY_ATTENTION.expires_soon).problem).toContain("25 May 2026");
    expect(describeAttention(EVERY_ATTENTION.buildkite_unreachable).problem).toContain("since 20 May 2026, 08:30 UTC");
    expect(describeAttention(EVERY_ATTENTION.secret_unreadable).problem).toContain("refused access");
  });

  // Rows from before checks told the secret store from Buildkite may carry buildkite_unreachable with reason
  // secret_unreadable: the message must still point at the secret store.
  it("does not blame Buildkite for a day in which the secret store could not be read", () => {
    const { problem, fix } = describeAttention({ code: "buildkite_unreachable", since: "2026-05-20T08:30:00.000Z", reason: "secret_unreadable" });
    expect(`${problem} ${fix}`).toMatch(/secret store/);
  });

  it("still reads well when a stored reason lacks its optional facts", () => {
    for (const code of Object.keys(EVERY_ATTENTION) as AttentionCode[]) {
      if (code === "missing_scopes") continue; // always stored with its scopes (healthOfToken)
      const { problem, fix } = describeAttention({ code });
      expectGoodText(problem, code);
      expect(fix).toMatch(SAYS_WHAT_TO_DO);
    }
  });
});

describe("errorState", () => {
  const TOKEN_PROBLEMS: ConnectionFailureCode[] = ["token_rejected", "token_forbidden", "token_expired", "missing_scopes", "token_already_connected"];

  function expectNewTokenUrl(url: string | undefined) {
    expect(url).toBeDefined();
    const parsed = new URL(url!);
    expect(`${parsed.origin}${parsed.pathname}`).toBe("https://buildkite.com/user/api-access-tokens/new");
    expect(parsed.searchParams.get("description")).toBe("Gitar Integration");
    expect(parsed.searchParams.getAll("scopes[]")).toEqual([...REQUIRED_SCOPE_NAMES]);
    expect(parsed.searchParams.getAll("scopes[]")).toHaveLength(9);
  }

  it("carries the missing scopes and a link to a token with all nine", () => {
    const state = errorState(ONE_OF_EACH.missing_scopes);
    expect(state).toEqual({
      status: "error",
      code: "missing_scopes",
      ...describeFailure(ONE_OF_EACH.missing_scopes),
      missingScopes: ["read_job_env", "read_suites"],
      newTokenUrl: expect.any(String),
    });
    expectNewTokenUrl(state.newTokenUrl);
  });

  it("carries how long to wait when rate limited, without suggesting a new token", () => {
    expect(errorState(ONE_OF_EACH.rate_limited)).toEqual({
      status: "error",
      code: "rate_limited",
      ...describeFailure(ONE_OF_EACH.rate_limited),
      retryAfterSeconds: 42,
    });
  });

  it.each(Object.values(ONE_OF_EACH))("offers a new-token link for token problems only ($code)", (failure) => {
    const state = errorState(failure);
    expect(state).toMatchObject({ status: "error", code: failure.code, ...describeFailure(failure) });
    if (TOKEN_PROBLEMS.includes(failure.code)) expectNewTokenUrl(state.newTokenUrl);
    else expect(state).not.toHaveProperty("newTokenUrl");
    if (failure.code !== "missing_scopes") expect(state).not.toHaveProperty("missingScopes");
    if (failure.code !== "rate_limited") expect(state).not.toHaveProperty("retryAfterSeconds");
    // Plain data for the client: survives serialisation unchanged, so no Date or class slips through.
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
  });

  it.each(UNREACHABLE_REASONS)("does not suggest a new token when Buildkite is down (%s)", (reason) => {
    expect(errorState({ code: "buildkite_unreachable", reason })).not.toHaveProperty("newTokenUrl");
  });
});

describe("connectState", () => {
  it("maps organization_choice_required to the choose step, by slug and name", () => {
    const result: ConnectResult = { ok: false, failure: ONE_OF_EACH.organization_choice_required };
    expect(connectState(result)).toEqual({ status: "choose_organization", organizations: [ACME, { slug: "acme-labs", name: "Acme Labs" }] });
  });

  it("maps every other failure to its error state", () => {
    for (const failure of Object.values(ONE_OF_EACH)) {
      if (failure.code === "organization_choice_required") continue;
      expect(connectState({ ok: false, failure })).toEqual(errorState(failure));
    }
  });

  it("turns warnings into text naming the expiry date and the write scopes", () => {
    const state = connectState({
      ok: true,
      organization: ACME,
      health: { status: "connected" },
      warnings: [
        { code: "expires_soon", expiresAt: EXPIRED_AT, daysLeft: 3 },
        { code: "broader_scopes", extra: ["read_agents", "write_builds", "write_pipelines"], writeScopes: ["write_builds", "write_pipelines"] },
      ],
    });
    expect(state).toEqual({ status: "connected", organizationName: "Acme Inc", warnings: [expect.any(String), expect.any(String)] });
    const [expiry, scopes] = (state as { warnings: string[] }).warnings;
    expect(expiry).toContain(`expires on ${EXPIRED_AT_TEXT} (in 3 days)`);
    expect(scopes).toContain("including write access (write_builds and write_pipelines)");
    expect(scopes).toContain("read_agents, write_builds and write_pipelines");
  });

  it("says one day, not one days, and leaves out write access when there is none", () => {
    expect(describeWarning({ code: "expires_soon", expiresAt: EXPIRED_AT, daysLeft: 1 })).toContain("(in 1 day)");
    const readOnly = describeWarning({ code: "broader_scopes", extra: ["read_agents"], writeScopes: [] });
    expect(readOnly).not.toContain("write access");
    expect(readOnly).toContain("read_agents");
  });

  it("has no warnings text for a clean connection", () => {
    expect(connectState({ ok: true, organization: ACME, health: { status: "connected" }, warnings: [] })).toEqual({
      status: "connected",
      organizationName: "Acme Inc",
      warnings: [],
    });
  });
});

describe("rotateState", () => {
  const rotated = (overrides: Partial<Extract<RotateResult, { ok: true }>> = {}): RotateResult => ({
    ok: true,
    organization: ACME,
    warnings: [],
    health: { status: "connected" },
    previous: { tokenUuid: "7d1c2a55-0c1e-4f0e-8b0e-5a3b9d2e6f40", tokenLastFour: "9f3a" },
    ownerChange: null,
    revoke: { status: "not_requested" },
    ...overrides,
  });

  it("has no notices for a plain rotation", () => {
    expect(rotateState(rotated())).toEqual({ status: "rotated", organizationName: "Acme Inc", notices: [] });
  });

  it.each([
    { revoke: { status: "revoked" as const }, tone: "success", says: "(ending in 9f3a) was revoked at Buildkite" },
    { revoke: { status: "already_revoked" as const }, tone: "success", says: "(ending in 9f3a) was already revoked at Buildkite" },
    {
      revoke: { status: "failed" as const, failure: { code: "buildkite_unreachable" as const, reason: "timeout" as const } },
      tone: "warning",
      says: "could not be revoked at Buildkite, so it is still valid",
    },
  ])("says how revoking the previous token went ($revoke.status)", ({ revoke, tone, says }) => {
    const state = rotateState(rotated({ revoke }));
    expect(state).toEqual({ status: "rotated", organizationName: "Acme Inc", notices: [{ tone, text: expect.stringContaining(says) }] });
    expect(state).toEqual({ status: "rotated", organizationName: "Acme Inc", notices: [describeRevokeOfPrevious(revoke, "9f3a")] });
  });

  it("tells how to revoke by hand whatever stopped the revoke", () => {
    for (const failure of REVOKE_CAUSES) {
      const notice = describeRevokeOfPrevious({ status: "failed", failure }, "9f3a");
      expect(notice.tone).toBe("warning");
      expect(notice.text).toContain("Revoke it by hand");
      expect(notice.text).toContain(BUILDKITE_TOKENS_PAGE);
      expectGoodText(notice.text, JSON.stringify(failure));
    }
  });

  it("says what only this rotation can say — a change of owner, then the revoke — leaving the token's warnings to the card", () => {
    const state = rotateState(
      rotated({
        warnings: [{ code: "broader_scopes", extra: ["write_builds"], writeScopes: ["write_builds"] }],
        ownerChange: { previous: "Ada Lovelace", next: "Grace Hopper" },
        revoke: { status: "revoked" },
      }),
    );
    expect(state).toEqual({
      status: "rotated",
      organizationName: "Acme Inc",
      notices: [
        { tone: "warning", text: describeOwnerChange({ previous: "Ada Lovelace", next: "Grace Hopper" }) },
        { tone: "success", text: expect.stringContaining("was revoked") },
      ],
    });
    expect(describeOwnerChange({ previous: "Ada Lovelace", next: "Grace Hopper" })).toContain("Gitar now reads Buildkite as Grace Hopper");
  });

  it("maps a failure to its error state", () => {
    expect(rotateState({ ok: false, failure: ONE_OF_EACH.organization_mismatch })).toEqual(errorState(ONE_OF_EACH.organization_mismatch));
    expect(rotateState({ ok: false, failure: { code: "busy" } })).toMatchObject({ status: "error", code: "busy", message: BUSY_MESSAGE });
  });
});

describe("disconnectState", () => {
  const disconnected = (revoke: Extract<DisconnectResult, { ok: true }>["revoke"]): DisconnectResult => ({ ok: true, revoke, secretDeleted: true });

  it.each([
    { revoke: { status: "revoked" as const }, tone: "success", says: "The token was revoked at Buildkite." },
    { revoke: { status: "already_revoked" as const }, tone: "success", says: "The token was already revoked at Buildkite." },
    {
      revoke: { status: "failed" as const, failure: { code: "rate_limited" as const, retryAfterSeconds: 5 } },
      tone: "warning",
      says: "could not be revoked at Buildkite and is still valid there: revoke it by hand",
    },
    { revoke: { status: "not_requested" as const }, tone: "info", says: "was not revoked at Buildkite: it stays valid there" },
  ])("says what became of the token ($revoke.status)", ({ revoke, tone, says }) => {
    expect(disconnectState(disconnected(revoke))).toEqual({ status: "disconnected", notices: [{ tone, text: expect.stringContaining(says) }] });
  });

  it("offers Disconnect anyway when revoking failed", () => {
    const failure: ConnectionFailure = { code: "revoke_failed", cause: { code: "secret_unreadable", reason: "corrupt" } };
    expect(disconnectState({ ok: false, failure })).toEqual({ status: "revoke_failed", ...describeFailure(failure) });
  });

  it("maps any other failure to its error state", () => {
    expect(disconnectState({ ok: false, failure: { code: "busy" } })).toEqual(errorState({ code: "busy" }));
    expect(disconnectState({ ok: false, failure: { code: "not_connected" } })).toEqual(errorState({ code: "not_connected" }));
  });
});

describe("verifyState", () => {
  const checked = (overrides: Partial<Extract<ReverifyResult, { ok: true }>>): ReverifyResult => ({
    ok: true,
    outcome: "passed",
    status: "connected",
    statusChanged: false,
    attention: null,
    ...overrides,
  });

  it("says the token works when the check passed", () => {
    expect(verifyState(checked({}))).toEqual({
      status: "checked",
      tone: "success",
      title: "The token works",
      message: "Buildkite accepted the token and it still reaches the organisation.",
    });
  });

  it("says what the check found, in the card's words, and points at the fix the card shows", () => {
    const attention: Attention = { code: "token_rejected" };
    const text = describeAttention(attention);
    expect(verifyState(checked({ outcome: "needs_attention", status: "needs_attention", statusChanged: true, attention }))).toEqual({
      status: "checked",
      tone: "warning",
      title: "The check found a problem",
      message: `${text.problem} See what to do above.`,
    });
  });

  it("says an inconclusive check changes nothing and will be retried, after the rate limit when there is one", () => {
    const limited = verifyState(checked({ outcome: "unreachable", retryAfterSeconds: 37 }));
    expect(limited).toMatchObject({ status: "checked", tone: "warning", title: "Could not reach Buildkite" });
    expect((limited as { message: string }).message).toContain("rate limit resets (37 seconds)");
    const plain = verifyState(checked({ outcome: "unreachable" }));
    expect((plain as { message: string }).message).toBe(
      "The status is unchanged; the check will be retried. If it keeps failing, check the server's access to Buildkite.",
    );
    const store = verifyState(checked({ outcome: "unreachable", unreachable: { code: "secret_unreadable", reason: "throttled" } }));
    expect(store).toMatchObject({ title: "Could not reach the secret store" });
    expect((store as { message: string }).message).toContain("check the server's access to the secret store");
  });

  it("says when a day of failed checks has become a verdict", () => {
    const since = "2026-05-20T08:30:00.000Z";
    const state = verifyState(
      checked({ outcome: "unreachable", status: "needs_attention", statusChanged: true, attention: { code: "buildkite_unreachable", since } }),
    );
    expect((state as { message: string }).message).toContain("Checks have not reached Buildkite since 20 May 2026");
  });

  it("maps a failure to its error state", () => {
    expect(verifyState({ ok: false, failure: { code: "not_connected" } })).toEqual(errorState({ code: "not_connected" }));
    expect(verifyState({ ok: false, failure: { code: "busy" } })).toMatchObject({ message: BUSY_MESSAGE });
  });
});
