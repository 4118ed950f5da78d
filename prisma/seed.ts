// Demo data for the embedded default: two organisations and three people, all with the password "demo".
// Idempotent: run at every start in demo mode; it never touches connections or audit events.
import type { Database } from "../lib/db/client";
import { DEMO_ACCOUNTS, DEMO_ORGANIZATIONS, DEMO_PASSWORD } from "../lib/auth/demo-accounts";
import { hashPassword } from "../lib/auth/password";

export async function seedDemoData(db: Database): Promise<void> {
  const organizations = new Map<string, string>();
  for (const organization of DEMO_ORGANIZATIONS) {
    const row = await db.organization.upsert({
      where: { slug: organization.slug },
      update: {},
      create: organization,
      select: { id: true },
    });
    organizations.set(organization.slug, row.id);
  }
  for (const account of DEMO_ACCOUNTS) {
    const existing = await db.user.findUnique({ where: { email: account.email }, select: { id: true } });
    const user =
      existing ??
      (await db.user.create({
        data: { email: account.email, name: account.name, passwordHash: await hashPassword(DEMO_PASSWORD) },
        select: { id: true },
      }));
    const organizationId = organizations.get(account.organization)!;
    await db.membership.upsert({
      where: { userId_organizationId: { userId: user.id, organizationId } },
      update: {},
      create: { userId: user.id, organizationId, role: account.role },
    });
  }
}
