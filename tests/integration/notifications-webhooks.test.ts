import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { personActor } from "@/lib/audit/actor";
import { deliverDueWebhooks } from "@/lib/notifications/deliver";
import type { NotificationDependencies } from "@/lib/notifications/dependencies";
import { createEndpoint, rollEndpointSecret, sendTestEvent } from "@/lib/notifications/endpoints";
import { WEBHOOK_EVENT_TYPES } from "@/lib/notifications/event-types";
import type { NotificationPayload } from "@/lib/notifications/payload";
import { verifySignature } from "@/lib/notifications/signature";
import { connectFresh, goodScenario, MINUTE_MS, tenantTracker } from "../support/connection-checks";
// Imported under another name: a top-level "use…" call reads as a React hook to the linter (react-hooks/rules-of-hooks).
import { setUpIntegrationHarness } from "../support/integration-harness";
import { notificationDeps, startReceiver, type Receiver } from "../support/notifications";
import { localBackend } from "../support/secret-backends";

/**
 * Webhook delivery against a real HTTP receiver on a local port, through the real delivery job handler (driven
 * directly, with a clock, so retries need no waiting), on this run's Postgres. WEBHOOKS_ALLOW_PRIVATE_NETWORKS is on
 * here only because the receiver is on 127.0.0.1; the SSRF cases run with it off.
 */

const harness = setUpIntegrationHarness();
const tenants = tenantTracker(() => harness.db);
const backend = localBackend();
const receivers: Receiver[] = [];

beforeAll(() => backend.setUp());
afterAll(async () => {
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
  await tenants.removeAll();
  await backend.tearDown();
});
afterEach(async () => {
  // Nothing one test leaves pending may be sent by the next one's run.
  await harness.db.webhookDelivery.updateMany({ where: { state: "pending" }, data: { state: "failed", nextAttemptAt: null } });
});

async function receiver(...args: Parameters<typeof startReceiver>) {
  const started = await startReceiver(...args);
  receivers.push(started);
  return started;
}

async function endpointFor(deps: NotificationDependencies, url: string, organizationId?: string) {
  const tenant = organizationId ? { organizationId, actor: (await tenants.create()).actor } : await tenants.create();
  const created = await createEndpoint(deps, { organizationId: tenant.organizationId, actor: personActor(tenant.actor), url, events: WEBHOOK_EVENT_TYPES });
  if (!created.ok) throw new Error("endpoint not created");
  return { tenant, endpointId: created.endpointId, secret: created.secret };
}

const deliveryOf = (endpointId: string) => harness.db.webhookDelivery.findFirstOrThrow({ where: { endpointId }, orderBy: { createdAt: "desc" } });

describe("a delivery", () => {
  it("is signed with the secret shown once, carries a delivery id, and never the token", async () => {
    const hook = await receiver();
    const deps = notificationDeps(harness.db);
    const { tenant, endpointId, secret } = await endpointFor(deps, hook.url);
    // A real connect, rotate and disconnect would each send an event; connect is the one with the freshest token.
    const connected = await connectFresh(harness, harness.deps(backend.store()), tenant, goodScenario());

    const run = await deliverDueWebhooks(deps);

    expect(run.delivered).toBeGreaterThanOrEqual(1);
    const [request] = hook.requests;
    expect(request).toBeDefined();
    expect(request!.method).toBe("POST");
    expect(request!.headers["content-type"]).toBe("application/json");
    expect(verifySignature(secret, request!.headers["gitar-signature"] as string, request!.body)).toEqual({ ok: true });
    expect(verifySignature(`${secret}x`, request!.headers["gitar-signature"] as string, request!.body)).toEqual({ ok: false, reason: "mismatch" });
    const delivery = await deliveryOf(endpointId);
    expect(request!.headers["gitar-delivery"]).toBe(delivery.id);
    expect(request!.headers["gitar-event"]).toBe("connection.connected");
    const payload = JSON.parse(request!.body) as NotificationPayload;
    expect(payload).toMatchObject({
      type: "connection.connected",
      organization: { id: tenant.organizationId },
      buildkiteOrganization: { slug: "acme-inc" },
      token: { uuid: connected.uuid, lastFour: connected.token.slice(-4) },
      actor: { type: "person", email: tenant.actor.email },
    });
    for (const received of hook.requests) {
      expect(received.body).not.toContain(connected.token);
      expect(JSON.stringify(received.headers)).not.toContain(connected.token);
    }
    expect(delivery).toMatchObject({ state: "delivered", attempts: 1, lastStatusCode: 200 });
    // Nothing stored for notifications holds the token either.
    const rows = await harness.db.$queryRawUnsafe<Array<{ json: string }>>(
      `SELECT row_to_json(e)::text AS json FROM notification_events e WHERE organization_id = $1::uuid
       UNION ALL SELECT row_to_json(w)::text FROM webhook_endpoints w WHERE organization_id = $1::uuid`,
      tenant.organizationId,
    );
    for (const row of rows) expect(row.json).not.toContain(connected.token);
    // The secret is stored only encrypted.
    expect(rows.some((row) => row.json.includes(secret))).toBe(false);
  });

  it("after 500 twice then 200 is sent once more per retry and marked delivered", async () => {
    const hook = await receiver({ kind: "sequence", statuses: [500, 500, 200] });
    let now = new Date();
    const deps = notificationDeps(harness.db, { now: () => now });
    const { tenant, endpointId } = await endpointFor(deps, hook.url);
    expect(await sendTestEvent(deps, { organizationId: tenant.organizationId, actor: personActor(tenant.actor), endpointId })).toMatchObject({ ok: true });

    await deliverDueWebhooks(deps);
    const first = await deliveryOf(endpointId);
    expect(first).toMatchObject({ state: "pending", attempts: 1, lastStatusCode: 500, lastError: "http_500" });
    // First retry about ten seconds later (random 0.5 → no jitter), then twice that.
    expect(first.nextAttemptAt!.getTime() - now.getTime()).toBe(10_000);
    // Not yet due: a run now sends nothing.
    await deliverDueWebhooks(deps);
    expect(hook.requests).toHaveLength(1);

    now = new Date(first.nextAttemptAt!.getTime());
    await deliverDueWebhooks(deps);
    const second = await deliveryOf(endpointId);
    expect(second).toMatchObject({ state: "pending", attempts: 2, lastStatusCode: 500 });
    expect(second.nextAttemptAt!.getTime() - now.getTime()).toBe(20_000);

    now = new Date(second.nextAttemptAt!.getTime());
    await deliverDueWebhooks(deps);
    expect(await deliveryOf(endpointId)).toMatchObject({ state: "delivered", attempts: 3, lastStatusCode: 200, lastError: null, nextAttemptAt: null });
    expect(hook.requests).toHaveLength(3);
    // The same delivery each time: one id, one body, for the receiver to drop duplicates by.
    expect(new Set(hook.requests.map((request) => request.headers["gitar-delivery"])).size).toBe(1);
    expect(new Set(hook.requests.map((request) => request.body)).size).toBe(1);
    expect((await harness.db.webhookEndpoint.findUniqueOrThrow({ where: { id: endpointId } })).failingSince).toBeNull();
  });

  it.each([
    [404, "failed"],
    [410, "failed"],
    [408, "pending"],
    [429, "pending"],
    [503, "pending"],
  ])("answered %i is %s", async (status, state) => {
    const hook = await receiver({ kind: "status", status });
    const deps = notificationDeps(harness.db);
    const { tenant, endpointId } = await endpointFor(deps, hook.url);
    await sendTestEvent(deps, { organizationId: tenant.organizationId, actor: personActor(tenant.actor), endpointId });

    await deliverDueWebhooks(deps);

    expect(await deliveryOf(endpointId)).toMatchObject({ state, attempts: 1, lastStatusCode: status });
  });

  it("to a receiver that hangs is timed out, and retried", async () => {
    const hook = await receiver({ kind: "hang" });
    const deps = notificationDeps(harness.db, { timeoutMs: 700 });
    const { tenant, endpointId } = await endpointFor(deps, hook.url);
    await sendTestEvent(deps, { organizationId: tenant.organizationId, actor: personActor(tenant.actor), endpointId });

    await deliverDueWebhooks(deps);

    const delivery = await deliveryOf(endpointId);
    expect(delivery).toMatchObject({ state: "pending", attempts: 1, lastError: "timeout", lastStatusCode: null });
    expect(hook.requests).toHaveLength(1);
    // A generous bound (timers are coarse, and the machine may be loaded): the attempt ended, it did not hang.
    expect(delivery.lastDurationMs).toBeLessThan(10_000);
  });

  it("is given up after 24 hours of failures", async () => {
    const hook = await receiver({ kind: "status", status: 502 });
    let now = new Date();
    const deps = notificationDeps(harness.db, { now: () => now });
    const { tenant, endpointId } = await endpointFor(deps, hook.url);
    await sendTestEvent(deps, { organizationId: tenant.organizationId, actor: personActor(tenant.actor), endpointId });
    const createdAt = (await deliveryOf(endpointId)).createdAt;

    for (let run = 0; run < 40; run += 1) {
      await deliverDueWebhooks(deps);
      const delivery = await deliveryOf(endpointId);
      if (delivery.state !== "pending") break;
      now = delivery.nextAttemptAt!;
    }

    const delivery = await deliveryOf(endpointId);
    expect(delivery.state).toBe("failed");
    expect(delivery.lastAttemptAt!.getTime() - createdAt.getTime()).toBeLessThanOrEqual(24 * 60 * MINUTE_MS);
    // 10 s doubling, each wait capped at an hour: about 30 attempts fit in a day.
    expect(delivery.attempts).toBeGreaterThan(20);
    expect(hook.requests).toHaveLength(delivery.attempts);
  });

  it("after a roll is signed with both secrets for a day, then the new one only", async () => {
    const hook = await receiver();
    let now = new Date();
    const deps = notificationDeps(harness.db, { now: () => now });
    const { tenant, endpointId, secret: oldSecret } = await endpointFor(deps, hook.url);
    const rolled = await rollEndpointSecret(deps, { organizationId: tenant.organizationId, actor: personActor(tenant.actor), endpointId });
    if (!rolled.ok) throw new Error("not rolled");
    const subject = { organizationId: tenant.organizationId, actor: personActor(tenant.actor), endpointId };

    await sendTestEvent(deps, subject);
    await deliverDueWebhooks(deps);
    const during = hook.requests.at(-1)!;
    expect(verifySignature(oldSecret, during.headers["gitar-signature"] as string, during.body)).toEqual({ ok: true });
    expect(verifySignature(rolled.secret, during.headers["gitar-signature"] as string, during.body)).toEqual({ ok: true });

    now = new Date(now.getTime() + 24 * 60 * MINUTE_MS + 1_000);
    await sendTestEvent(deps, subject);
    await deliverDueWebhooks(deps);
    const after = hook.requests.at(-1)!;
    const nowSeconds = Math.floor(now.getTime() / 1000);
    expect(verifySignature(rolled.secret, after.headers["gitar-signature"] as string, after.body, { nowSeconds })).toEqual({ ok: true });
    expect(verifySignature(oldSecret, after.headers["gitar-signature"] as string, after.body, { nowSeconds })).toEqual({ ok: false, reason: "mismatch" });
  });

  it("to an endpoint failing for 3 days disables it, audits it, and queues the admins' email", async () => {
    const hook = await receiver({ kind: "status", status: 500 });
    let now = new Date();
    const deps = notificationDeps(harness.db, { now: () => now });
    const { tenant, endpointId } = await endpointFor(deps, hook.url);
    const subject = { organizationId: tenant.organizationId, actor: personActor(tenant.actor), endpointId };
    await sendTestEvent(deps, subject);
    await deliverDueWebhooks(deps);
    expect((await harness.db.webhookEndpoint.findUniqueOrThrow({ where: { id: endpointId } })).enabled).toBe(true);

    // A day later it still fails, and two days after that: three days in a row.
    now = new Date(now.getTime() + 24 * 60 * MINUTE_MS);
    await sendTestEvent(deps, subject);
    await deliverDueWebhooks(deps);
    expect((await harness.db.webhookEndpoint.findUniqueOrThrow({ where: { id: endpointId } })).enabled).toBe(true);
    now = new Date(now.getTime() + 2 * 24 * 60 * MINUTE_MS);
    await sendTestEvent(deps, subject);
    const run = await deliverDueWebhooks(deps);

    expect(run.endpointsDisabled).toBe(1);
    expect(await harness.db.webhookEndpoint.findUniqueOrThrow({ where: { id: endpointId } })).toMatchObject({ enabled: false, disabledReason: "failing" });
    const audit = await harness.db.auditEvent.findFirst({ where: { organizationId: tenant.organizationId, action: "webhook.disable" } });
    expect(audit).toMatchObject({ actorType: "scheduler", code: "failing" });
    const notice = await harness.db.notificationEvent.findFirstOrThrow({ where: { organizationId: tenant.organizationId, type: "endpoint.disabled" } });
    expect(notice.emailState).toBe("pending");
  });

  it("with the protection on: http:// to a local receiver is refused, and nothing is sent", async () => {
    const hook = await receiver();
    const deps = notificationDeps(harness.db, { allowPrivateNetworks: false });
    const { tenant, endpointId } = await endpointFor(deps, hook.url);
    await sendTestEvent(deps, { organizationId: tenant.organizationId, actor: personActor(tenant.actor), endpointId });

    await deliverDueWebhooks(deps);

    expect(await deliveryOf(endpointId)).toMatchObject({ state: "failed", lastError: "blocked_scheme" });
    expect(hook.requests).toHaveLength(0);
  });

  it("connects to the address that was checked: a name resolved by our resolver, not the system's", async () => {
    const hook = await receiver();
    const resolved: string[] = [];
    const deps = notificationDeps(harness.db, {
      resolver: async (hostname) => {
        resolved.push(hostname);
        return [{ address: "127.0.0.1", family: 4 }];
      },
    });
    // No DNS server knows this name: the request can only arrive if the socket went to the address we resolved.
    const { tenant, endpointId } = await endpointFor(deps, `http://receiver.gitar-test.invalid:${hook.port}/hooks/gitar`);
    await sendTestEvent(deps, { organizationId: tenant.organizationId, actor: personActor(tenant.actor), endpointId });

    await deliverDueWebhooks(deps);

    expect(resolved).toEqual(["receiver.gitar-test.invalid"]);
    expect(hook.requests).toHaveLength(1);
    expect(hook.requests[0]!.headers.host).toBe(`receiver.gitar-test.invalid:${hook.port}`);
    expect(await deliveryOf(endpointId)).toMatchObject({ state: "delivered" });
  });

  it("is not redirected: a 302 to another address is an answer, and the target gets nothing", async () => {
    const target = await receiver();
    const hook = await receiver({ kind: "redirect", location: target.url });
    const deps = notificationDeps(harness.db);
    const { tenant, endpointId } = await endpointFor(deps, hook.url);
    await sendTestEvent(deps, { organizationId: tenant.organizationId, actor: personActor(tenant.actor), endpointId });

    await deliverDueWebhooks(deps);

    expect(hook.requests).toHaveLength(1);
    expect(target.requests).toHaveLength(0);
    expect(await deliveryOf(endpointId)).toMatchObject({ state: "failed", lastStatusCode: 302, lastError: "redirect_not_followed" });
  });
});

describe("the SSRF guard, protection on, at delivery time", () => {
  // Every address here is one a webhook must never reach; each is refused before any connection is made.
  const table: Array<[string, string]> = [
    ["loopback", "https://127.0.0.1/hook"],
    ["loopback, elsewhere in 127/8", "https://127.5.6.7/hook"],
    ["10/8", "https://10.1.2.3/hook"],
    ["172.16/12", "https://172.20.0.5/hook"],
    ["192.168/16", "https://192.168.1.10/hook"],
    ["cloud metadata", "https://169.254.169.254/latest/meta-data/"],
    ["IPv6 loopback", "https://[::1]/hook"],
    ["IPv6 unique-local", "https://[fd00:ec2::254]/hook"],
    ["IPv4 inside IPv6", "https://[::ffff:127.0.0.1]/hook"],
    ["a name resolving to 127.0.0.1", "https://localhost/hook"],
  ];

  it.each(table)("refuses %s", async (_label, url) => {
    // The form refuses most of these already: write the row directly, as an endpoint whose DNS changed would be.
    const deps = notificationDeps(harness.db, { allowPrivateNetworks: false });
    const tenant = await tenants.create();
    const created = await createEndpoint(notificationDeps(harness.db, { box: deps.box }), {
      organizationId: tenant.organizationId,
      actor: personActor(tenant.actor),
      url,
      events: WEBHOOK_EVENT_TYPES,
    });
    if (!created.ok) throw new Error("not created");
    await sendTestEvent(deps, { organizationId: tenant.organizationId, actor: personActor(tenant.actor), endpointId: created.endpointId });

    await deliverDueWebhooks(deps);

    expect(await deliveryOf(created.endpointId)).toMatchObject({ state: "failed", lastError: "blocked_private_address", lastStatusCode: null, attempts: 1 });
  });

  it("refuses a name with a public and a private address (every address must be public)", async () => {
    const deps = notificationDeps(harness.db, {
      allowPrivateNetworks: false,
      resolver: async () => [
        { address: "93.184.215.14", family: 4 },
        { address: "10.0.0.5", family: 4 },
      ],
    });
    const { tenant, endpointId } = await endpointFor(deps, "https://rebind.gitar-test.invalid/hook");
    await sendTestEvent(deps, { organizationId: tenant.organizationId, actor: personActor(tenant.actor), endpointId });

    await deliverDueWebhooks(deps);

    expect(await deliveryOf(endpointId)).toMatchObject({ state: "failed", lastError: "blocked_private_address" });
  });

  it("resolves again on every attempt: a name that moves to a private address is refused on the retry", async () => {
    const hook = await receiver();
    let answer = "127.0.0.1";
    let allowPrivate = true;
    let now = new Date();
    const lookups: string[] = [];
    const base = notificationDeps(harness.db);
    const deps = (): NotificationDependencies => ({
      ...base,
      now: () => now,
      allowPrivateNetworks: allowPrivate,
      resolver: async () => {
        lookups.push(answer);
        return [{ address: answer, family: 4 }];
      },
    });
    // https:// to a plain-HTTP receiver: the first attempt connects (to the checked address) and fails its TLS
    // handshake, a failure that is retried.
    const { tenant, endpointId } = await endpointFor(deps(), `https://moving.gitar-test.invalid:${hook.port}/hook`);
    await sendTestEvent(deps(), { organizationId: tenant.organizationId, actor: personActor(tenant.actor), endpointId });
    await deliverDueWebhooks(deps());
    expect(await deliveryOf(endpointId)).toMatchObject({ state: "pending", lastError: "connection_failed" });

    // The protection goes on (as in production) and the name now answers with the metadata address.
    allowPrivate = false;
    answer = "169.254.169.254";
    now = (await deliveryOf(endpointId)).nextAttemptAt!;
    await deliverDueWebhooks(deps());

    expect(lookups).toEqual(["127.0.0.1", "169.254.169.254"]);
    expect(await deliveryOf(endpointId)).toMatchObject({ state: "failed", attempts: 2, lastError: "blocked_private_address" });
  });
});
