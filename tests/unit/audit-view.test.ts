import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { AUDIT_ACTIONS, AUDIT_ACTION_NAMES, type AuditAction, type AuditDetail, type AuditOutcome } from "@/lib/audit/events";
import type { AuditEventView } from "@/lib/audit/read";
import { describeAuditDetail, outcomeLabel } from "@/lib/integrations/buildkite/presentation/audit-view";
import type { ConnectionFailureCode } from "@/lib/integrations/buildkite/failures";
import type { AttentionCode } from "@/lib/integrations/buildkite/health";

// The audit log's words for each event, and the promise that they name a token by its Buildkite UUID and last four
// characters only.

const TOKEN = `bkua_${randomBytes(20).toString("hex")}`;
const PREVIOUS_TOKEN = `bkua_${randomBytes(20).toString("hex")}`;
const TOKEN_UUID = "0b6b0f0e-6a8f-4d3c-9c39-2f7c4c1d9e11";
const PREVIOUS_UUID = "7d1c2a55-0c1e-4f0e-8b0e-5a3b9d2e6f40";
const LAST_FOUR = TOKEN.slice(-4);
const PREVIOUS_LAST_FOUR = PREVIOUS_TOKEN.slice(-4);
const SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:gitar/org_1/buildkite-api-token-AbCdEf";
const SECRET_VERSION = "5e0f6c1a-2b3d-4e5f-8a9b-0c1d2e3f4a5b";

let sequence = 0;
function event(action: AuditAction, outcome: AuditOutcome, code: string | null, detail: AuditDetail): AuditEventView {
  sequence += 1;
  return {
    id: `00000000-0000-4000-8000-${String(sequence).padStart(12, "0")}`,
    at: "2026-05-21T12:00:00.000Z",
    action,
    actionLabel: AUDIT_ACTIONS[action],
    outcome,
    code,
    actor: { type: "person", name: "ada@example.test" },
    detail,
  };
}

const token = { tokenUuid: TOKEN_UUID, tokenLastFour: LAST_FOUR };
const previous = { previousTokenUuid: PREVIOUS_UUID, previousTokenLastFour: PREVIOUS_LAST_FOUR };

/** One event of each kind the use cases record, with what the log shows for it. */
const REPRESENTATIVE: Array<{ name: string; event: AuditEventView; label: string; detail: string }> = [
  {
    name: "connect",
    event: event("buildkite.connect", "success", null, { ...token, buildkiteOrganization: "acme-inc", scopes: ["read_builds"] }),
    label: "Succeeded",
    detail: `Token ending in ${LAST_FOUR}. Buildkite organisation “acme-inc”.`,
  },
  {
    name: "connect of a token that already needs attention",
    event: event("buildkite.connect", "success", null, { ...token, ...previous, buildkiteOrganization: "acme-inc", statusTo: "needs_attention", reason: "expires_soon" }),
    label: "Succeeded",
    detail: `Token ending in ${LAST_FOUR}. Buildkite organisation “acme-inc”. Needs attention: the token expires within 7 days.`,
  },
  {
    name: "connect refused by missing scopes",
    event: event("buildkite.connect", "failure", "missing_scopes", { tokenUuid: TOKEN_UUID, missingScopes: ["read_builds", "read_suites"] }),
    label: "Failed",
    detail: `The token was missing scopes: read_builds, read_suites. Token ${TOKEN_UUID}.`,
  },
  {
    name: "connect that could not reach Buildkite",
    event: event("buildkite.connect", "failure", "buildkite_unreachable", { reason: "timeout" }),
    label: "Failed",
    detail: "Buildkite could not be reached (timeout).",
  },
  {
    name: "connect by someone who is not an admin",
    event: event("buildkite.connect", "refused", "not_admin", {}),
    label: "Refused",
    detail: "Only admins may do this.",
  },
  {
    name: "rotate",
    event: event("buildkite.rotate", "success", null, { ...token, ...previous, buildkiteOrganization: "acme-inc", statusFrom: "connected", statusTo: "connected" }),
    label: "Succeeded",
    detail: `Replaced token ending in ${PREVIOUS_LAST_FOUR} with token ending in ${LAST_FOUR}. Buildkite organisation “acme-inc”.`,
  },
  {
    name: "rotate to the token already connected",
    event: event("buildkite.rotate", "failure", "token_already_connected", { tokenUuid: TOKEN_UUID }),
    label: "Failed",
    detail: `The token was already connected. Token ${TOKEN_UUID}.`,
  },
  {
    name: "rotate to a token for another organisation",
    event: event("buildkite.rotate", "failure", "organization_mismatch", { tokenUuid: TOKEN_UUID, buildkiteOrganization: "acme-inc" }),
    label: "Failed",
    detail: `The token could not reach the connected organisation. Token ${TOKEN_UUID}.`,
  },
  ...(["revoked", "already_revoked", "failed", "not_requested"] as const).map((revoke) => ({
    name: `disconnect (${revoke})`,
    event: event("buildkite.disconnect", "success", null, { ...token, buildkiteOrganization: "acme-inc", revoke }),
    label: "Succeeded",
    detail: `Token ending in ${LAST_FOUR}. Buildkite organisation “acme-inc”. Token ${
      { revoked: "revoked at Buildkite", already_revoked: "already revoked at Buildkite", failed: "revoking at Buildkite failed", not_requested: "not revoked at Buildkite" }[revoke]
    }.`,
  })),
  {
    name: "disconnect stopped because revoking failed",
    event: event("buildkite.disconnect", "failure", "revoke_failed", { tokenUuid: TOKEN_UUID, reason: "buildkite_unreachable" }),
    label: "Failed",
    detail: `Revoking at Buildkite failed (buildkite_unreachable). Token ${TOKEN_UUID}.`,
  },
  {
    name: "disconnect that found another change in progress",
    event: event("buildkite.disconnect", "failure", "busy", {}),
    label: "Failed",
    detail: "Another change was in progress.",
  },
  {
    name: "revoke",
    event: event("buildkite.revoke", "success", null, { ...token, revoke: "revoked" }),
    label: "Succeeded",
    detail: `Token ending in ${LAST_FOUR}.`,
  },
  {
    name: "revoke of a token that was already dead",
    event: event("buildkite.revoke", "success", null, { ...token, revoke: "already_revoked" }),
    label: "Succeeded",
    detail: `Token ending in ${LAST_FOUR}. It was already revoked at Buildkite.`,
  },
  {
    name: "revoke that could not read the stored token",
    event: event("buildkite.revoke", "failure", "secret_unreadable", { ...token, revoke: "failed", reason: "access_denied" }),
    label: "Failed",
    detail: `The stored token could not be read (access_denied). Token ending in ${LAST_FOUR}.`,
  },
  {
    name: "verify that passed",
    event: event("buildkite.verify", "success", "passed", { ...token, statusFrom: "connected", statusTo: "connected" }),
    label: "Passed",
    detail: `Token ending in ${LAST_FOUR}.`,
  },
  {
    name: "verify that found the token revoked",
    event: event("buildkite.verify", "success", "needs_attention", { ...token, statusFrom: "connected", statusTo: "needs_attention", reason: "token_rejected" }),
    label: "Needs attention",
    detail: `Token ending in ${LAST_FOUR}. Status connected → needs attention. Needs attention: Buildkite no longer accepts the token.`,
  },
  {
    name: "verify that brought the connection back",
    event: event("buildkite.verify", "success", "passed", { ...token, statusFrom: "needs_attention", statusTo: "connected" }),
    label: "Passed",
    detail: `Token ending in ${LAST_FOUR}. Status needs attention → connected.`,
  },
  {
    name: "verify after a day without reaching Buildkite",
    event: event("buildkite.verify", "success", "unreachable", { ...token, statusFrom: "connected", statusTo: "needs_attention", reason: "buildkite_unreachable" }),
    label: "Could not reach Buildkite",
    detail: `Token ending in ${LAST_FOUR}. Status connected → needs attention. Needs attention: Buildkite unreachable for a day.`,
  },
  {
    name: "verify that found another change in progress",
    event: event("buildkite.verify", "failure", "busy", {}),
    label: "Failed",
    detail: "Another change was in progress.",
  },
  {
    name: "diagnostics",
    event: event("buildkite.diagnostics", "success", null, { ...token, buildkiteOrganization: "acme-inc", passed: 11, failed: 2 }),
    label: "Succeeded",
    detail: `Token ending in ${LAST_FOUR}. Buildkite organisation “acme-inc”. 11 checks passed, 2 failed.`,
  },
  {
    name: "diagnostics that could not read the stored token",
    event: event("buildkite.diagnostics", "failure", "secret_unreadable", { reason: "not_found" }),
    label: "Failed",
    detail: "The stored token could not be read (not_found).",
  },
  {
    name: "an API key created, with an expiry",
    event: event("api_key.create", "success", null, { apiKeyName: "deploy-bot", apiKeyPrefix: "gitar_ak_Ab12", expiresAt: "2027-02-20T00:00:00.000Z" }),
    label: "Succeeded",
    detail: "Key “deploy-bot” (gitar_ak_Ab12…). Expires 2027-02-20.",
  },
  {
    name: "an API key revoked",
    event: event("api_key.revoke", "success", null, { apiKeyName: "deploy-bot", apiKeyPrefix: "gitar_ak_Ab12" }),
    label: "Succeeded",
    detail: "Key “deploy-bot” (gitar_ak_Ab12…).",
  },
  {
    name: "add a webhook endpoint",
    event: event("webhook.create", "success", null, { endpointHost: "hooks.example.com", events: ["connection.recovered", "connection.expiring"] }),
    label: "Succeeded",
    detail: "Endpoint hooks.example.com. Events: connection.recovered, connection.expiring.",
  },
  {
    name: "enable an endpoint",
    event: event("webhook.enable", "success", null, { endpointHost: "hooks.example.com" }),
    label: "Succeeded",
    detail: "Endpoint hooks.example.com.",
  },
  {
    name: "an endpoint turned off by the scheduler",
    event: event("webhook.disable", "success", "failing", { endpointHost: "hooks.example.com", reason: "failing since 2026-11-19T10:00:00.000Z" }),
    label: "Succeeded",
    detail: "Endpoint hooks.example.com. Turned off after 3 days of failed deliveries.",
  },
  {
    name: "delete an endpoint",
    event: event("webhook.delete", "success", null, { endpointHost: "hooks.example.com" }),
    label: "Succeeded",
    detail: "Endpoint hooks.example.com.",
  },
  {
    name: "roll a signing secret",
    event: event("webhook.roll_secret", "success", null, { endpointHost: "hooks.example.com", expiresAt: "2026-11-23T10:00:00.000Z" }),
    label: "Succeeded",
    detail: "Endpoint hooks.example.com. The previous secret also signs until 2026-11-23 10:00 UTC.",
  },
  {
    name: "send a test event",
    event: event("webhook.test", "success", null, { endpointHost: "hooks.example.com" }),
    label: "Succeeded",
    detail: "Endpoint hooks.example.com.",
  },
  {
    name: "a member refused at notifications",
    event: event("notifications.email", "refused", "not_admin", {}),
    label: "Refused",
    detail: "Only admins may do this.",
  },
];

describe("outcomeLabel and describeAuditDetail", () => {
  it("cover every action the audit log records", () => {
    expect(new Set(REPRESENTATIVE.map(({ event }) => event.action))).toEqual(new Set(AUDIT_ACTION_NAMES));
  });

  it.each(REPRESENTATIVE)("words $name", ({ event, label, detail }) => {
    expect(outcomeLabel(event)).toBe(label);
    expect(describeAuditDetail(event)).toBe(detail);
  });

  it("labels a verify without a known outcome code plainly", () => {
    expect(outcomeLabel(event("buildkite.verify", "success", null, {}))).toBe("Succeeded");
    expect(outcomeLabel(event("buildkite.verify", "success", "something_new", {}))).toBe("Done");
  });

  it("names a token by its UUID when its last four are not known", () => {
    expect(describeAuditDetail(event("buildkite.revoke", "success", null, { tokenUuid: TOKEN_UUID }))).toBe(`Token ${TOKEN_UUID}.`);
  });

  it("keeps a failure code it has no words for, rather than hiding it", () => {
    expect(describeAuditDetail(event("buildkite.connect", "failure", "brand_new_code", {}))).toBe("brand_new_code.");
  });

  it("is empty for an event with nothing to add", () => {
    expect(describeAuditDetail(event("buildkite.verify", "success", "passed", {}))).toBe("");
  });

  it("has words for every failure code and every attention code", () => {
    const failures: Record<ConnectionFailureCode, true> = {
      token_rejected: true,
      token_forbidden: true,
      rate_limited: true,
      buildkite_unreachable: true,
      buildkite_unexpected_response: true,
      token_expired: true,
      missing_scopes: true,
      no_organizations: true,
      organization_not_found: true,
      organization_choice_required: true,
      organization_mismatch: true,
      token_already_connected: true,
      not_connected: true,
      busy: true,
      revoke_failed: true,
      secret_store_failed: true,
      secret_unreadable: true,
      database_failed: true,
      deadline_exceeded: true,
      too_many_token_checks: true,
    };
    const failureTexts = (Object.keys(failures) as ConnectionFailureCode[]).map((code) => describeAuditDetail(event("buildkite.connect", "failure", code, {})));
    for (const [index, text] of failureTexts.entries()) expect(text, Object.keys(failures)[index]).toMatch(/^[A-Z].+ .+\.$/);
    expect(new Set(failureTexts).size).toBe(failureTexts.length);

    const attention: Record<AttentionCode, true> = {
      token_rejected: true,
      token_forbidden: true,
      token_expired: true,
      missing_scopes: true,
      organization_unreachable: true,
      expires_soon: true,
      secret_unreadable: true,
      buildkite_unreachable: true,
    };
    const attentionTexts = (Object.keys(attention) as AttentionCode[]).map((reason) =>
      describeAuditDetail(event("buildkite.verify", "success", "needs_attention", { statusFrom: "connected", statusTo: "needs_attention", reason })),
    );
    for (const text of attentionTexts) expect(text).toMatch(/Needs attention: .+\.$/);
    expect(new Set(attentionTexts).size).toBe(attentionTexts.length);
  });

  // A "Verify now" that merely could not reach Buildkite (status unchanged, within the day's grace) once read as
  // "Needs attention" in the log, because the check's failure code sits in `reason` too.
  it("does not claim a connection needs attention after one inconclusive check", () => {
    const inconclusive = event("buildkite.verify", "success", "unreachable", { ...token, statusFrom: "connected", statusTo: "connected", reason: "buildkite_unreachable" });
    expect(outcomeLabel(inconclusive)).toBe("Could not reach Buildkite");
    expect(describeAuditDetail(inconclusive)).not.toContain("Needs attention");
  });
});

describe("what the audit log may say about a token", () => {
  /** Fields a careless writer could put in the JSON column; the view must never surface them. */
  const LEAKY_EXTRAS = { token: TOKEN, previousToken: PREVIOUS_TOKEN, secretRef: SECRET_ARN, secretVersion: SECRET_VERSION, secret: { ref: SECRET_ARN, version: SECRET_VERSION } };

  const everyEvent = (): AuditEventView[] => {
    const details: AuditDetail[] = [
      {},
      token,
      { tokenUuid: TOKEN_UUID },
      { tokenLastFour: LAST_FOUR },
      { ...token, ...previous },
      { ...token, ...previous, buildkiteOrganization: "acme-inc", scopes: ["read_builds"], statusFrom: "connected", statusTo: "needs_attention", reason: "token_rejected", revoke: "failed", passed: 3, failed: 1 },
      { ...token, missingScopes: ["read_user"] },
    ];
    const codes = [null, "passed", "needs_attention", "unreachable", "token_rejected", "missing_scopes", "secret_unreadable", "revoke_failed"];
    const outcomes: AuditOutcome[] = ["success", "failure", "refused"];
    return AUDIT_ACTION_NAMES.flatMap((action) =>
      outcomes.flatMap((outcome) =>
        codes.flatMap((code) => details.map((detail) => event(action, outcome, code, { ...detail, ...LEAKY_EXTRAS } as AuditDetail))),
      ),
    );
  };

  it("never shows a token, a secret reference or a secret version, whatever the event's JSON holds", () => {
    const events = everyEvent();
    expect(events.length).toBeGreaterThan(800);
    for (const shown of events) {
      const text = `${outcomeLabel(shown)} ${describeAuditDetail(shown)}`;
      for (const secret of [TOKEN, PREVIOUS_TOKEN, SECRET_ARN, SECRET_VERSION, "arn:aws", "bkua_", "[object"]) {
        expect(text, JSON.stringify(shown.detail)).not.toContain(secret);
      }
    }
  });

  it("identifies tokens only by their Buildkite UUID and last four characters", () => {
    const allowedUuids = new Set([TOKEN_UUID, PREVIOUS_UUID]);
    const allowedLastFours = new Set([LAST_FOUR, PREVIOUS_LAST_FOUR]);
    for (const shown of everyEvent()) {
      const text = describeAuditDetail(shown);
      for (const [uuid] of text.matchAll(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g)) expect(allowedUuids).toContain(uuid);
      for (const [, lastFour] of text.matchAll(/ending in (\S{4})/g)) expect(allowedLastFours).toContain(lastFour);
      // Nothing long and random-looking beyond those: a token is 40+ characters of hex after its prefix.
      expect(text).not.toMatch(/[0-9a-f]{16,}/);
    }
  });
});
