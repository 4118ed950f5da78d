// Demo mode's sample data never mixes with real organisations (prisma/seed.ts, lib/organizations/add-member.ts,
// and the data step of the auth_hardening migration).
import { cp, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeEach, describe, expect, inject, it } from "vitest";
import { DEMO_ACCOUNTS } from "@/lib/auth/demo-accounts";
import { migrate, MIGRATIONS_DIR } from "@/lib/db/migrate";
import { addMember } from "@/lib/organizations/add-member";
import { seedDemoData } from "../../prisma/seed";
import { connectTestDb } from "../support/db";

const db = connectTestDb();
afterAll(() => db.$disconnect());

const DEMO_EMAILS = DEMO_ACCOUNTS.map((account) => account.email);

/** This file's own slate: no acme/globex organisations, no demo accounts. */
async function clear() {
  await db.organization.deleteMany({ where: { OR: [{ slug: { startsWith: "acme" } }, { slug: { startsWith: "globex" } }] } });
  await db.user.deleteMany({ where: { email: { in: [...DEMO_EMAILS, "wile@acme.test"] } } });
}

const membershipsOf = (email: string) =>
  db.membership.findMany({
    where: { user: { email } },
    select: { role: true, organization: { select: { slug: true, name: true, demo: true } } },
    orderBy: { organization: { slug: "asc" } },
  });

describe("seedDemoData", { timeout: 120_000 }, () => {
  beforeEach(clear);

  it("creates the demo organisations marked demo, with the demo accounts, and is idempotent", async () => {
    await seedDemoData(db);
    await seedDemoData(db);
    const organizations = await db.organization.findMany({
      where: { demo: true },
      select: { slug: true, name: true },
      orderBy: { slug: "asc" },
    });
    expect(organizations).toEqual([
      { slug: "acme", name: "Acme" },
      { slug: "globex", name: "Globex" },
    ]);
    expect(await membershipsOf("admin@acme.test")).toEqual([{ role: "admin", organization: { slug: "acme", name: "Acme", demo: true } }]);
    expect(await membershipsOf("admin@globex.test")).toEqual([{ role: "admin", organization: { slug: "globex", name: "Globex", demo: true } }]);
  });

  it("never joins a real organisation called Acme: the demo one gets another slug", async () => {
    const real = await addMember(db, { organizationName: "Acme", email: "wile@acme.test", name: "Wile E.", role: "admin" });
    await seedDemoData(db);

    const realOrganization = await db.organization.findUniqueOrThrow({ where: { id: real.organizationId }, include: { memberships: true } });
    expect(realOrganization).toMatchObject({ slug: "acme", name: "Acme", demo: false });
    expect(realOrganization.memberships.map((membership) => membership.userId)).toEqual([real.userId]);

    const demoAcme = await membershipsOf("admin@acme.test");
    expect(demoAcme).toEqual([{ role: "admin", organization: { slug: "acme-demo", name: "Acme", demo: true } }]);
    // Seeding again finds the same demo organisation (by its flag and name), not the real one.
    await seedDemoData(db);
    expect(await membershipsOf("member@acme.test")).toEqual([{ role: "member", organization: { slug: "acme-demo", name: "Acme", demo: true } }]);
    expect(await db.organization.count({ where: { name: "Acme", demo: true } })).toBe(1);
  });
});

describe("seedDemoData after members:add", { timeout: 120_000 }, () => {
  beforeEach(clear);

  it("keeps using the demo organisation that members:add moved aside, and never joins the real one", async () => {
    await seedDemoData(db);
    const real = await addMember(db, { organizationName: "Acme", email: "wile@acme.test", name: "Wile E.", role: "admin" });
    expect(real.movedDemoOrganization?.slug).toBe("acme-demo");
    await seedDemoData(db);
    expect(await db.membership.count({ where: { organizationId: real.organizationId } })).toBe(1);
    expect(await membershipsOf("admin@acme.test")).toEqual([{ role: "admin", organization: { slug: "acme-demo", name: "Acme", demo: true } }]);
    expect(await db.organization.count({ where: { name: "Acme", demo: true } })).toBe(1);
  });
});

describe("the auth_hardening migration's data step", () => {
  it("marks the old seed's organisations demo, and takes the demo accounts out of real organisations", async () => {
    const serverUrl = new URL(inject("databaseUrl"));
    const name = `bk_upgrade_${Date.now().toString(36)}`;
    const admin = new pg.Client({ connectionString: inject("databaseUrl") });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    const before = await mkdtemp(path.join(tmpdir(), "gitar-migrations-"));
    const client = new pg.Client({ connectionString: url.toString() });
    try {
      // The database as the previous version left it: every migration before this one, and the old seed's data,
      // including its merge of the demo accounts into a real organisation that happened to have the slug "globex".
      for (const entry of await readdir(MIGRATIONS_DIR, { withFileTypes: true })) {
        if (entry.isDirectory() && entry.name < "20261122210000") await cp(path.join(MIGRATIONS_DIR, entry.name), path.join(before, entry.name), { recursive: true });
      }
      await cp(path.join(MIGRATIONS_DIR, "migration_lock.toml"), path.join(before, "migration_lock.toml"));
      await migrate(url.toString(), before);
      await client.connect();
      await client.query(`
        INSERT INTO organizations (id, name, slug) VALUES
          ('00000000-0000-4000-8000-000000000001', 'Acme', 'acme'),
          ('00000000-0000-4000-8000-000000000002', 'Globex', 'globex');
        INSERT INTO users (id, email, name, password_hash) VALUES
          ('00000000-0000-4000-8000-000000000011', 'admin@acme.test', 'Ada Admin', 'scrypt$32768$8$1$x$y'),
          ('00000000-0000-4000-8000-000000000012', 'admin@globex.test', 'Grace Globex', 'scrypt$32768$8$1$x$y'),
          ('00000000-0000-4000-8000-000000000013', 'hank@globex.example', 'Hank Scorpio', NULL);
        INSERT INTO memberships (id, user_id, organization_id, role) VALUES
          ('00000000-0000-4000-8000-000000000021', '00000000-0000-4000-8000-000000000011', '00000000-0000-4000-8000-000000000001', 'admin'),
          ('00000000-0000-4000-8000-000000000022', '00000000-0000-4000-8000-000000000012', '00000000-0000-4000-8000-000000000002', 'admin'),
          ('00000000-0000-4000-8000-000000000023', '00000000-0000-4000-8000-000000000013', '00000000-0000-4000-8000-000000000002', 'admin');
      `);

      expect(await migrate(url.toString())).toContain("20261122210000_auth_hardening");

      const { rows: organizations } = await client.query(`SELECT slug, demo FROM organizations ORDER BY slug`);
      expect(organizations).toEqual([
        { slug: "acme", demo: true },
        { slug: "globex", demo: false },
      ]);
      const { rows: memberships } = await client.query(
        `SELECT u.email, o.slug FROM memberships m JOIN users u ON u.id = m.user_id JOIN organizations o ON o.id = m.organization_id ORDER BY u.email`,
      );
      expect(memberships).toEqual([
        { email: "admin@acme.test", slug: "acme" },
        { email: "hank@globex.example", slug: "globex" },
      ]);
    } finally {
      await client.end().catch(() => undefined);
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
      await rm(before, { recursive: true, force: true });
    }
  });
});
