import { describe, expect, it } from "vitest";
import { composeEmail } from "@/lib/notifications/email-content";
import type { NotificationPayload } from "@/lib/notifications/payload";
import { DEFAULT_RETRY_SCHEDULE, isRetryable, retryDelayMs } from "@/lib/notifications/retry-policy";

describe("retry schedule", () => {
  it("starts at about ten seconds and doubles, with ±20 % jitter, each wait at most an hour", () => {
    expect(retryDelayMs(1, DEFAULT_RETRY_SCHEDULE, () => 0.5)).toBe(10_000);
    expect(retryDelayMs(2, DEFAULT_RETRY_SCHEDULE, () => 0.5)).toBe(20_000);
    expect(retryDelayMs(5, DEFAULT_RETRY_SCHEDULE, () => 0.5)).toBe(160_000);
    expect(retryDelayMs(1, DEFAULT_RETRY_SCHEDULE, () => 0)).toBe(8_000);
    expect(retryDelayMs(1, DEFAULT_RETRY_SCHEDULE, () => 1)).toBe(12_000);
    expect(retryDelayMs(40, DEFAULT_RETRY_SCHEDULE, () => 0.5)).toBe(60 * 60 * 1000);
  });

  it("retries 5xx, 408, 429, timeouts and failed connections; not other 4xx, redirects or refused addresses", () => {
    for (const status of [500, 502, 503, 504, 408, 429]) expect(isRetryable({ kind: "http_error", status })).toBe(true);
    for (const status of [400, 401, 403, 404, 410, 422, 301, 302]) expect(isRetryable({ kind: "http_error", status })).toBe(false);
    expect(isRetryable({ kind: "timeout" })).toBe(true);
    expect(isRetryable({ kind: "connection_failed" })).toBe(true);
    expect(isRetryable({ kind: "blocked", reason: "private_address" })).toBe(false);
    expect(isRetryable({ kind: "delivered", status: 200 })).toBe(false);
  });
});

describe("notification email", () => {
  const payload: NotificationPayload = {
    id: "evt",
    type: "connection.needs_attention",
    createdAt: "2026-11-22T10:00:00.000Z",
    organization: { id: "org", name: "Acme <script>" },
    buildkiteOrganization: { slug: "acme-inc", name: "Acme Inc" },
    token: { uuid: "d2378321-1cbb-4f0e-a384-05411b9ddd5b", lastFour: "uA0o" },
    actor: { type: "scheduler" },
    data: { reason: { code: "token_rejected", problem: "Buildkite no longer accepts this token.", fix: "Rotate it." } },
  };
  const links = { integrations: "https://gitar.example.com/settings/integrations", notifications: "https://gitar.example.com/settings/notifications" };

  it("has a plain-text and an HTML part with the problem, the fix and a link to Integrations, escaped", () => {
    const email = composeEmail(payload, links);
    expect(email.subject).toBe("Buildkite needs attention in Acme <script>");
    expect(email.text).toContain("Buildkite no longer accepts this token.");
    expect(email.text).toContain("What to do: Rotate it.");
    expect(email.text).toContain("ending in uA0o");
    expect(email.text).toContain(links.integrations);
    expect(email.html).toContain(`href="${links.integrations}"`);
    expect(email.html).not.toContain("<script>");
    expect(email.html).toContain("Acme &lt;script&gt;");
  });
});
