// Demo data for demo mode: two organisations and three people, all with the password "demo".
// Idempotent: run at every start in demo mode; it never touches connections or audit events.
//
// Demo data never mixes with real data. The seed uses only organisations marked `demo` (found by that flag and
// their name), and creates them when missing; if a real organisation already has the slug a demo one would take
// ("acme"), the demo one gets another. So the demo accounts, whose password is published, never join a real
// organisation, whatever it is called.
import type { Database } from "../lib/db/client";
import { DEMO_ACCOUNTS, DEMO_ORGANIZATIONS, DEMO_PASSWORD } from "../lib/auth/demo-accounts";
import { hashPassword } from "../lib/auth/password";
import { freeDemoSlug } from "../lib/organizations/demo-slug";

type Transaction = Parameters<Parameters<Database["$transaction"]>[0]>[0];

async function demoOrganizationId(tx: Transaction, organization: { slug: string; name: string }): Promise<string> {
  const existing = await tx.organization.findFirst({
    where: { demo: true, name: organization.name },
    orderBy: { createdAt: "asc" },
    select: { id: true },
  });
  if (existing) return existing.id;
  const taken = await tx.organization.findUnique({ where: { slug: organization.slug }, select: { id: true } });
  const slug = taken ? await freeDemoSlug(tx, organization.slug) : organization.slug;
  const created = await tx.organization.create({ data: { slug, name: organization.name, demo: true }, select: { id: true } });
  return created.id;
}

export async function seedDemoData(db: Database): Promise<void> {
  await db.$transaction(
    async (tx) => {
      // Instances sharing a database (AUTH_DEMO=true with DATABASE_URL) may start together: one seeds at a time.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('gitar:seed-demo-data'))`;
      const organizations = new Map<string, string>();
      for (const organization of DEMO_ORGANIZATIONS) {
        organizations.set(organization.slug, await demoOrganizationId(tx, organization));
      }
      for (const account of DEMO_ACCOUNTS) {
        const existing = await tx.user.findUnique({ where: { email: account.email }, select: { id: true } });
        const user =
          existing ??
          (await tx.user.create({
            data: { email: account.email, name: account.name, passwordHash: await hashPassword(DEMO_PASSWORD) },
            select: { id: true },
          }));
        const organizationId = organizations.get(account.organization)!;
        await tx.membership.upsert({
          where: { userId_organizationId: { userId: user.id, organizationId } },
          update: {},
          create: { userId: user.id, organizationId, role: account.role },
        });
      }
    },
    // Hashing a new account's password takes a moment (scrypt at OWASP's minimum), more on a busy machine.
    { timeout: 120_000, maxWait: 30_000 },
  );
}
