import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { listen, type Listener } from "@/lib/db/listen";
import { startViewCache, VIEW_CACHE_CHANNEL, type ViewCache } from "@/lib/db/view-cache";
import { connectFresh, tenantTracker } from "../support/connection-checks";
import { setUpIntegrationHarness } from "../support/integration-harness";
import { localBackend } from "../support/secret-backends";
import { waitFor, type Tenant } from "../support/tenants";

/**
 * The view cache on this run's Postgres (lib/db/view-cache.ts): the triggers that say which rows a committed change
 * made stale, heard over a real listening connection, and a cache that drops those rows, or everything when it stops
 * hearing.
 */

const harness = setUpIntegrationHarness();
const tenants = tenantTracker(() => harness.db);
const backend = localBackend();
const heard: string[] = [];
let watcher: Listener;
let view: { cache: ViewCache; listener: Promise<Listener> };

beforeAll(async () => {
  await backend.setUp();
  watcher = await listen({
    databaseUrl: inject("databaseUrl"),
    channels: [VIEW_CACHE_CHANNEL],
    applicationName: "view-cache-test-watcher",
    logAs: "view_cache_test",
    onNotification: (_channel, payload) => heard.push(payload),
  });
  view = startViewCache(inject("databaseUrl"));
  await view.listener;
});

afterAll(async () => {
  await watcher?.end();
  await (await view?.listener)?.end();
  await tenants.removeAll();
  await backend.tearDown();
});

/** What the triggers notified for `change`, once it committed: everything heard up to a marker sent after it. */
async function notifiedBy(change: () => Promise<unknown>): Promise<string[]> {
  const start = heard.length;
  await change().catch(() => undefined);
  const marker = `marker:${randomBytes(6).toString("hex")}`;
  await harness.db.$executeRawUnsafe(`SELECT pg_notify('${VIEW_CACHE_CHANNEL}', '${marker}')`);
  expect(await waitFor(() => heard.includes(marker), 5_000)).toBe(true);
  return [...new Set(heard.slice(start, heard.indexOf(marker, start)))].sort();
}

/** A new organisation and person, once what their creation notified has been heard. */
async function createTenant(role: "admin" | "member"): Promise<Tenant> {
  let tenant!: Tenant;
  await notifiedBy(async () => (tenant = await tenants.create(role)));
  return tenant;
}

const membershipOf = (userId: string) => harness.db.membership.findFirstOrThrow({ where: { userId }, select: { role: true } });

describe("what a committed change notifies", () => {
  it("a membership made, changed or removed names its person", async () => {
    const organization = await harness.db.organization.create({ data: { name: "Notified", slug: `notified-${randomUUID()}` } });
    const user = await harness.db.user.create({ data: { email: `notified-${randomUUID()}@example.test`, name: "Ada" } });
    try {
      expect(await notifiedBy(() => harness.db.membership.create({ data: { userId: user.id, organizationId: organization.id, role: "member" } }))).toEqual([
        `membership:${user.id}`,
      ]);
      expect(await notifiedBy(() => harness.db.membership.updateMany({ where: { userId: user.id }, data: { role: "admin" } }))).toEqual([`membership:${user.id}`]);
      expect(await notifiedBy(() => harness.db.membership.deleteMany({ where: { userId: user.id } }))).toEqual([`membership:${user.id}`]);
    } finally {
      await harness.db.user.delete({ where: { id: user.id } });
      await harness.db.organization.delete({ where: { id: organization.id } });
    }
  });

  it("a connection made, changed or removed names its organisation; a person's or key's new name reaches every card", async () => {
    const tenant = await createTenant("admin");
    const { organizationId } = tenant;
    const { userId } = tenant.actor;
    expect(await notifiedBy(() => connectFresh(harness, harness.deps(backend.store()), tenant))).toEqual([`connection:${organizationId}`]);
    expect(await notifiedBy(() => harness.db.buildkiteConnection.update({ where: { organizationId }, data: { lastCheckedAt: new Date() } }))).toEqual([
      `connection:${organizationId}`,
    ]);

    // Names show in the header and as who connected: a new one drops that person's membership and every card.
    expect(await notifiedBy(() => harness.db.user.update({ where: { id: userId }, data: { name: "Ada Lovelace" } }))).toEqual([
      "connection:*",
      `membership:${userId}`,
    ]);
    // Nothing a page shows: nothing notified.
    expect(await notifiedBy(() => harness.db.user.update({ where: { id: userId }, data: { passwordHash: "scrypt$not-a-real-hash" } }))).toEqual([]);
    expect(await notifiedBy(() => harness.db.organization.update({ where: { id: organizationId }, data: { name: "Renamed" } }))).toEqual(["membership:*"]);
    expect(await notifiedBy(() => harness.db.organization.update({ where: { id: organizationId }, data: { slug: `moved-${randomUUID()}` } }))).toEqual([]);

    const key = await harness.db.apiKey.create({
      data: { organizationId, name: "deploy-bot", displayPrefix: "gitar_test", keyHash: randomBytes(32).toString("hex") },
    });
    expect(await notifiedBy(() => harness.db.apiKey.update({ where: { id: key.id }, data: { name: "release-bot" } }))).toEqual([`connection:${organizationId}`]);
    expect(await notifiedBy(() => harness.db.apiKey.update({ where: { id: key.id }, data: { lastUsedAt: new Date() } }))).toEqual([]);

    // The person who connected is deleted: the card's "connected by" is cleared (SET NULL), and their membership goes.
    expect(await notifiedBy(() => harness.db.user.delete({ where: { id: userId } }))).toEqual([`connection:${organizationId}`, `membership:${userId}`]);
    expect(await notifiedBy(() => harness.db.buildkiteConnection.delete({ where: { organizationId } }))).toEqual([`connection:${organizationId}`]);
  });

  it("a change rolled back notifies no one", async () => {
    const tenant = await createTenant("member");
    const rolledBack = () =>
      harness.db.$transaction(async (tx) => {
        await tx.membership.updateMany({ where: { userId: tenant.actor.userId }, data: { role: "admin" } });
        throw new Error("changed my mind");
      });
    expect(await notifiedBy(rolledBack)).toEqual([]);
    expect(await membershipOf(tenant.actor.userId)).toEqual({ role: "member" });
  });
});

/** A person's membership read as a page view reads it, counting the reads that reached the database. */
function membershipThroughTheCache(userId: string) {
  const counter = {
    reads: 0,
    read: () =>
      view.cache.read("membership", userId, () => {
        counter.reads += 1;
        return membershipOf(userId);
      }),
  };
  return counter;
}

describe("the view cache", () => {
  it("keeps a row between views and drops it when a change to it commits elsewhere", async () => {
    const tenant = await createTenant("member");
    const { userId } = tenant.actor;
    const membership = membershipThroughTheCache(userId);
    const read = membership.read;
    expect(view.cache.listening).toBe(true);
    expect(await read()).toEqual({ role: "member" });
    // Kept, once the cache has heard what the tenant's creation notified (a read during which it hears any change
    // is not kept): from then on, views do not read the database.
    const kept = async () => {
      await read();
      const before = membership.reads;
      await read();
      return membership.reads === before;
    };
    expect(await waitFor(kept, 5_000)).toBe(true);

    await harness.db.membership.updateMany({ where: { userId }, data: { role: "admin" } });
    expect(await waitFor(async () => (await read()).role === "admin", 5_000)).toBe(true);
    const readsAfterTheChange = membership.reads;
    await read();
    expect(membership.reads).toBe(readsAfterTheChange);
  });

  it("keeps nothing while its listening connection is lost, and starts empty when it is back", async () => {
    const tenant = await createTenant("member");
    const { userId } = tenant.actor;
    const membership = membershipThroughTheCache(userId);
    const read = membership.read;
    await read();
    const listeners = () =>
      harness.db.$queryRawUnsafe<Array<{ pid: number }>>(
        `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'gitar-view-cache'`,
      );
    const [before] = await listeners();
    expect(before).toBeDefined();
    await harness.db.$queryRawUnsafe(`SELECT pg_terminate_backend($1)`, before!.pid);
    expect(await waitFor(() => !view.cache.listening, 5_000)).toBe(true);

    // Changes made now are not heard: every read goes to the database.
    await harness.db.membership.updateMany({ where: { userId }, data: { role: "admin" } });
    const readsWhileLost = membership.reads;
    expect(await read()).toEqual({ role: "admin" });
    expect(await read()).toEqual({ role: "admin" });
    expect(membership.reads).toBe(readsWhileLost + 2);

    // Back by itself, on a new connection, empty.
    expect(await waitFor(() => view.cache.listening, 20_000)).toBe(true);
    expect((await listeners()).some((listener) => listener.pid !== before!.pid)).toBe(true);
    await read();
    await read();
    expect(membership.reads).toBe(readsWhileLost + 3);
  });
});
