import { describe, expect, it } from "vitest";
import { BuildkiteError, type BuildkiteErrorCode } from "@/lib/buildkite/errors";
import { REQUIRED_SCOPE_NAMES } from "@/lib/buildkite/scopes";
import { buildkiteFailure } from "@/lib/integrations/buildkite/connect";
import { toFormState } from "@/lib/integrations/buildkite/form-state";
import { describeFailure, describeWarning } from "@/lib/integrations/buildkite/messages";
import type { ConnectFailure, ConnectFailureCode } from "@/lib/integrations/buildkite/outcomes";
import type { SecretStoreErrorCode } from "@/lib/secrets/store";

const EXPIRED_AT = new Date("2026-03-13T12:00:00.000Z");
const EXPIRED_AT_TEXT = "13 Mar 2026";

/** One failure of every code (the Record makes the compiler insist on all of them). */
const ONE_OF_EACH: Record<ConnectFailureCode, ConnectFailure> = {
  token_rejected: { code: "token_rejected" },
  token_forbidden: { code: "token_forbidden", scope: "read_builds" },
  rate_limited: { code: "rate_limited", retryAfterSeconds: 42 },
  buildkite_unreachable: { code: "buildkite_unreachable", reason: "timeout" },
  buildkite_unexpected_response: { code: "buildkite_unexpected_response" },
  token_expired: { code: "token_expired", expiredAt: EXPIRED_AT },
  missing_scopes: { code: "missing_scopes", missing: ["read_job_env", "read_suites"] },
  no_organizations: { code: "no_organizations" },
  organization_not_found: { code: "organization_not_found", slug: "wile-e-coyote" },
  secret_store_failed: { code: "secret_store_failed", reason: "unavailable" },
  database_failed: { code: "database_failed" },
};

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
const UNREACHABLE_REASONS = ["timeout", "unavailable", "unreachable"] as const;

/** Every message an admin can be shown: each code, each secret-store reason, each unreachable reason. */
const EVERY_FAILURE: ConnectFailure[] = [
  ...Object.values(ONE_OF_EACH).filter((failure) => failure.code !== "secret_store_failed" && failure.code !== "buildkite_unreachable"),
  { code: "token_forbidden" },
  ...UNREACHABLE_REASONS.map((reason): ConnectFailure => ({ code: "buildkite_unreachable", reason })),
  ...(Object.keys(SECRET_STORE_REASONS) as SecretStoreErrorCode[]).map((reason): ConnectFailure => ({ code: "secret_store_failed", reason })),
];

// Each message ends by telling the admin (or an operator) what to do next.
const SAYS_WHAT_TO_DO = /\b(try again|wait|create|add|choose|make sure|check|an operator must)\b/i;

describe("buildkiteFailure", () => {
  const cases: Record<BuildkiteErrorCode, { details?: ConstructorParameters<typeof BuildkiteError>[2]; expected: ConnectFailure }> = {
    unauthorized: { details: { status: 401 }, expected: { code: "token_rejected" } },
    forbidden: { details: { status: 403, missingScope: "read_job_env" }, expected: { code: "token_forbidden", scope: "read_job_env" } },
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
    expect(failure).toEqual({ code: "token_forbidden" });
    expect((failure as { scope?: string }).scope).toBeUndefined();
  });

  it("waits a minute after a 429 that did not say how long", () => {
    expect(buildkiteFailure(new BuildkiteError("rate_limited", "429", { status: 429 }))).toEqual({
      code: "rate_limited",
      retryAfterSeconds: 60,
    });
  });
});

describe("describeFailure", () => {
  it("gives each failure code its own title", () => {
    const titles = Object.values(ONE_OF_EACH).map((failure) => describeFailure(failure).title);
    expect(titles).toHaveLength(11);
    expect(new Set(titles).size).toBe(11);
    for (const title of titles) expect(title.trim().length).toBeGreaterThan(10);
  });

  it("gives every secret-store reason a distinct message that says what to do", () => {
    const messages = (Object.keys(SECRET_STORE_REASONS) as SecretStoreErrorCode[]).map((reason) => {
      const text = describeFailure({ code: "secret_store_failed", reason });
      expect(text.title).toBe("The token could not be stored securely");
      return text.message;
    });
    expect(messages).toHaveLength(8);
    expect(new Set(messages).size).toBe(8);
    for (const message of messages) expect(message).toMatch(SAYS_WHAT_TO_DO);
  });

  it("gives every unreachable reason a distinct message that says what to do", () => {
    const messages = UNREACHABLE_REASONS.map((reason) => describeFailure({ code: "buildkite_unreachable", reason }).message);
    expect(new Set(messages).size).toBe(3);
    for (const message of messages) expect(message).toMatch(SAYS_WHAT_TO_DO);
  });

  it("never shows the same message for two different failures, and every one says what to do", () => {
    const messages = EVERY_FAILURE.map((failure) => describeFailure(failure).message);
    expect(messages).toHaveLength(21);
    expect(new Set(messages).size).toBe(messages.length);
    for (const message of messages) {
      expect(message.trim()).not.toBe("");
      expect(message).toMatch(SAYS_WHAT_TO_DO);
      expect(message).not.toMatch(/undefined|null|\[object/);
    }
  });

  it("fills in the facts each failure carries", () => {
    expect(describeFailure(ONE_OF_EACH.rate_limited).message).toContain("Wait 42 seconds");
    expect(describeFailure(ONE_OF_EACH.token_forbidden).message).toContain("lacks the read_builds scope");
    expect(describeFailure({ code: "token_forbidden" }).message).not.toContain("lacks");
    expect(describeFailure(ONE_OF_EACH.token_expired).message).toContain(`It expired on ${EXPIRED_AT_TEXT}.`);
    expect(describeFailure(ONE_OF_EACH.organization_not_found).message).toContain("“wile-e-coyote”");
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
});

describe("toFormState", () => {
  const TOKEN_PROBLEMS: ConnectFailureCode[] = ["token_rejected", "token_forbidden", "token_expired", "missing_scopes"];

  function expectNewTokenUrl(url: string | undefined) {
    expect(url).toBeDefined();
    const parsed = new URL(url!);
    expect(`${parsed.origin}${parsed.pathname}`).toBe("https://buildkite.com/user/api-access-tokens/new");
    expect(parsed.searchParams.get("description")).toBe("Gitar Integration");
    expect(parsed.searchParams.getAll("scopes[]")).toEqual([...REQUIRED_SCOPE_NAMES]);
    expect(parsed.searchParams.getAll("scopes[]")).toHaveLength(9);
  }

  it("carries the missing scopes and a link to a token with all nine", () => {
    const state = toFormState({ kind: "failed", failure: ONE_OF_EACH.missing_scopes });
    expect(state).toEqual({
      status: "error",
      code: "missing_scopes",
      ...describeFailure(ONE_OF_EACH.missing_scopes),
      missingScopes: ["read_job_env", "read_suites"],
      newTokenUrl: expect.any(String),
    });
    expectNewTokenUrl((state as { newTokenUrl?: string }).newTokenUrl);
  });

  it("carries how long to wait when rate limited, without suggesting a new token", () => {
    expect(toFormState({ kind: "failed", failure: ONE_OF_EACH.rate_limited })).toEqual({
      status: "error",
      code: "rate_limited",
      ...describeFailure(ONE_OF_EACH.rate_limited),
      retryAfterSeconds: 42,
    });
  });

  it.each(Object.values(ONE_OF_EACH))("offers a new-token link for token problems only ($code)", (failure) => {
    const state = toFormState({ kind: "failed", failure });
    expect(state).toMatchObject({ status: "error", code: failure.code, ...describeFailure(failure) });
    if (TOKEN_PROBLEMS.includes(failure.code)) {
      expectNewTokenUrl((state as { newTokenUrl?: string }).newTokenUrl);
    } else {
      expect(state).not.toHaveProperty("newTokenUrl");
    }
    if (failure.code !== "missing_scopes") expect(state).not.toHaveProperty("missingScopes");
    if (failure.code !== "rate_limited") expect(state).not.toHaveProperty("retryAfterSeconds");
  });

  it.each([...UNREACHABLE_REASONS.map((reason) => ({ code: "buildkite_unreachable" as const, reason }))])(
    "does not suggest a new token when Buildkite is down ($reason)",
    (failure) => {
      expect(toFormState({ kind: "failed", failure })).not.toHaveProperty("newTokenUrl");
    },
  );

  it("lists the organisations to choose from by slug and name only", () => {
    const organizations = [
      { slug: "acme-inc", name: "Acme Inc" },
      { slug: "acme-labs", name: "Acme Labs", url: "https://api.buildkite.com/v2/organizations/acme-labs" },
    ];
    expect(toFormState({ kind: "choose_organization", organizations })).toEqual({
      status: "choose_organization",
      organizations: [
        { slug: "acme-inc", name: "Acme Inc" },
        { slug: "acme-labs", name: "Acme Labs" },
      ],
    });
  });

  it("turns warnings into text naming the expiry date and the write scopes", () => {
    const state = toFormState({
      kind: "connected",
      organization: { slug: "acme-inc", name: "Acme Inc" },
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
    expect(toFormState({ kind: "connected", organization: { slug: "acme-inc", name: "Acme Inc" }, warnings: [] })).toEqual({
      status: "connected",
      organizationName: "Acme Inc",
      warnings: [],
    });
  });
});
