import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { personActor, SCHEDULER } from "@/lib/audit/actor";
import { disconnectBuildkite } from "@/lib/integrations/buildkite/disconnect";
import { rotateBuildkiteToken } from "@/lib/integrations/buildkite/rotate";
import { createMailer, sendDueEmails } from "@/lib/notifications/email";
import { setEmailEnabled } from "@/lib/notifications/endpoints";
import { recordExpiringTokens } from "@/lib/notifications/expiring";
import type { NotificationPayload } from "@/lib/notifications/payload";
import { at, connectFresh, DAY_MS, goodScenario, reverify, tenantTracker } from "../support/connection-checks";
// Imported under another name: a top-level "use…" call reads as a React hook to the linter (react-hooks/rules-of-hooks).
import { setUpIntegrationHarness } from "../support/integration-harness";
import { notificationDeps, startSmtpStandIn, type SmtpStandIn } from "../support/notifications";
import { localBackend } from "../support/secret-backends";
import { freshToken } from "../support/tenants";

/**
 * Which events the real use cases record, and that each is recorded once per change; then the email job against a
 * real SMTP server (smtp-server) on a local port.
 */

const harness = setUpIntegrationHarness();
const tenants = tenantTracker(() => harness.db);
const backend = localBackend();
let smtp: SmtpStandIn;

beforeAll(async () => {
  await backend.setUp();
  smtp = await startSmtpStandIn();
});
afterAll(async () => {
  await smtp.close();
  await tenants.removeAll();
  await backend.tearDown();
});

const eventsOf = async (organizationId: string) =>
  (await harness.db.notificationEvent.findMany({ where: { organizationId }, orderBy: { createdAt: "asc" } })).map((event) => ({
    type: event.type,
    payload: event.payload as unknown as NotificationPayload,
    emailState: event.emailState,
  }));

describe("events from connection changes", () => {
  it("connect, rotate and disconnect each record their event, with who acted and never the token", async () => {
    const tenant = await tenants.create();
    const deps = harness.deps(backend.store());
    const connected = await connectFresh(harness, deps, tenant);
    const next = freshToken(harness.buildkite, goodScenario());
    expect(await rotateBuildkiteToken({ organizationId: tenant.organizationId, actor: personActor(tenant.actor), token: next.token, revokePrevious: false }, deps)).toMatchObject({ ok: true });
    expect(await disconnectBuildkite({ organizationId: tenant.organizationId, actor: personActor(tenant.actor), revokeAtBuildkite: false, evenIfRevokeFails: false }, deps)).toMatchObject({ ok: true });

    const events = await eventsOf(tenant.organizationId);
    expect(events.map((event) => event.type)).toEqual(["connection.connected", "connection.rotated", "connection.disconnected"]);
    expect(events[1]!.payload).toMatchObject({
      token: { uuid: next.uuid, lastFour: next.token.slice(-4) },
      data: { previousToken: { uuid: connected.uuid, lastFour: connected.token.slice(-4) } },
      actor: { type: "person", email: tenant.actor.email },
    });
    const text = JSON.stringify(events);
    expect(text).not.toContain(connected.token);
    expect(text).not.toContain(next.token);
    // None of these is worth an email.
    expect(events.every((event) => event.emailState === null)).toBe(true);
  });

  it("a revoked token: one needs_attention (reason and fix) however many checks see it, then one recovered", async () => {
    const tenant = await tenants.create();
    const deps = harness.deps(backend.store());
    const connected = await connectFresh(harness, deps, tenant);
    harness.buildkite.revoke(connected.token);

    for (let check = 0; check < 3; check += 1) await reverify(deps, tenant, SCHEDULER);

    let events = await eventsOf(tenant.organizationId);
    expect(events.map((event) => event.type)).toEqual(["connection.connected", "connection.needs_attention"]);
    expect(events[1]!.payload).toMatchObject({ actor: { type: "scheduler" }, data: { reason: { code: "token_rejected" } } });
    expect(events[1]!.payload.data.reason!.problem).toMatch(/no longer accepts this token/);
    expect(events[1]!.payload.data.reason!.fix).toMatch(/Rotate token/);
    expect(events[1]!.emailState).toBe("pending");

    // Rotating to a working token is the recovery.
    const next = freshToken(harness.buildkite, goodScenario());
    await rotateBuildkiteToken({ organizationId: tenant.organizationId, actor: personActor(tenant.actor), token: next.token, revokePrevious: false }, deps);
    await reverify(deps, tenant, SCHEDULER);
    events = await eventsOf(tenant.organizationId);
    expect(events.map((event) => event.type)).toEqual(["connection.connected", "connection.needs_attention", "connection.rotated", "connection.recovered"]);
  });

  it("expiring: 7 days and 1 day before, once each, however often the job runs", async () => {
    const tenant = await tenants.create();
    const deps = harness.deps(backend.store());
    await connectFresh(harness, deps, tenant, goodScenario({ expiresOffsetMs: 30 * DAY_MS }));
    const expiresAt = (await harness.db.buildkiteConnection.findUniqueOrThrow({ where: { organizationId: tenant.organizationId } })).tokenExpiresAt!;
    const expiringOf = async () => (await eventsOf(tenant.organizationId)).filter((event) => event.type === "connection.expiring");

    for (const offset of [-20 * DAY_MS, -6 * DAY_MS, -5 * DAY_MS, -12 * 60 * 60 * 1000, -60 * 60 * 1000]) {
      const now = at(expiresAt, offset);
      await recordExpiringTokens(notificationDeps(harness.db, { now: () => now }));
      await recordExpiringTokens(notificationDeps(harness.db, { now: () => now }));
    }

    const expiring = await expiringOf();
    expect(expiring.map((event) => event.payload.data.daysBefore)).toEqual([7, 1]);
    expect(expiring[0]!.payload.data.expiresAt).toBe(expiresAt.toISOString());
    expect(expiring.every((event) => event.emailState === "pending")).toBe(true);
  });
});

describe("email", () => {
  it("goes to the organisation's admins, and only they — not members, not an admin who turned it off, not other organisations", async () => {
    // Emails other files left pending are not this test's to send.
    await harness.db.notificationEvent.updateMany({ where: { emailState: "pending" }, data: { emailState: "skipped" } });
    const tenant = await tenants.create();
    const deps = harness.deps(backend.store());
    const other = await tenants.create();
    const admin2 = await harness.db.user.create({ data: { email: `second-admin-${randomUUID()}@example.test`, name: "Second Admin" } });
    const quiet = await harness.db.user.create({ data: { email: `quiet-admin-${randomUUID()}@example.test`, name: "Quiet Admin" } });
    const member = await harness.db.user.create({ data: { email: `member-${randomUUID()}@example.test`, name: "Mo Member" } });
    await harness.db.membership.createMany({
      data: [
        { userId: admin2.id, organizationId: tenant.organizationId, role: "admin" },
        { userId: quiet.id, organizationId: tenant.organizationId, role: "admin" },
        { userId: member.id, organizationId: tenant.organizationId, role: "member" },
      ],
    });
    const notificationDependencies = notificationDeps(harness.db);
    await setEmailEnabled(notificationDependencies, {
      organizationId: tenant.organizationId,
      actor: personActor({ userId: quiet.id, email: quiet.email }),
      userId: quiet.id,
      enabled: false,
    });
    const connected = await connectFresh(harness, deps, tenant);
    await connectFresh(harness, deps, other);
    harness.buildkite.revoke(connected.token);
    await reverify(deps, tenant, SCHEDULER);

    const mailer = createMailer(smtp.url);
    try {
      const report = await sendDueEmails(notificationDependencies, { mailer, from: "Gitar <notifications@example.test>", appUrl: "https://gitar.example.test" });
      expect(report).toMatchObject({ emailed: 1, emailFailed: 0 });
    } finally {
      mailer.close();
    }

    expect(smtp.messages).toHaveLength(1);
    const [mail] = smtp.messages;
    expect(mail!.envelopeTo.sort()).toEqual([tenant.actor.email, admin2.email].sort());
    expect(mail!.subject).toContain("needs attention");
    expect(mail!.text).toContain("no longer accepts this token");
    expect(mail!.text).toContain("https://gitar.example.test/settings/integrations");
    expect(mail!.html).toContain('href="https://gitar.example.test/settings/integrations"');
    expect(JSON.stringify(mail)).not.toContain(connected.token);
    const event = await harness.db.notificationEvent.findFirstOrThrow({ where: { organizationId: tenant.organizationId, type: "connection.needs_attention" } });
    expect(event.emailState).toBe("sent");

    // Sent once: a second run finds nothing to send.
    const second = createMailer(smtp.url);
    const again = await sendDueEmails(notificationDependencies, { mailer: second, from: "x@example.test", appUrl: "https://gitar.example.test" }).finally(() => second.close());
    expect(again.emailed).toBe(0);
    expect(smtp.messages).toHaveLength(1);
  });

  it("without SMTP_URL sends nothing, and marks the events skipped", async () => {
    const tenant = await tenants.create();
    const deps = harness.deps(backend.store());
    const connected = await connectFresh(harness, deps, tenant);
    harness.buildkite.revoke(connected.token);
    await reverify(deps, tenant, SCHEDULER);
    const before = smtp.messages.length;

    await sendDueEmails(notificationDeps(harness.db), { mailer: undefined, from: "x@example.test", appUrl: "https://gitar.example.test" });

    expect(smtp.messages).toHaveLength(before);
    const event = await harness.db.notificationEvent.findFirstOrThrow({ where: { organizationId: tenant.organizationId, type: "connection.needs_attention" } });
    expect(event.emailState).toBe("skipped");
  });
});
