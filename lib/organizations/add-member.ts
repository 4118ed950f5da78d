// No "server-only" guard: the members:add script (plain Node) uses this. It holds no secrets.
import { normaliseEmail } from "../auth/email";
import type { Database } from "../db/client";

export type AddMemberInput = {
  organizationName: string;
  email: string;
  name: string;
  role: "admin" | "member";
};

export type AddMemberResult = { organizationId: string; userId: string; createdOrganization: boolean; createdUser: boolean };

export const slugFor = (organizationName: string) =>
  organizationName
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 60) || "organization";

/**
 * Gives a person a role in an organisation, creating either when missing. How the first admin of a real deployment
 * gets in: identity providers only prove an email, and the database decides who belongs where. Idempotent; running
 * it again with another role changes the role.
 */
export async function addMember(db: Database, input: AddMemberInput): Promise<AddMemberResult> {
  const email = normaliseEmail(input.email);
  const slug = slugFor(input.organizationName);
  return db.$transaction(async (tx) => {
    const existingOrganization = await tx.organization.findUnique({ where: { slug }, select: { id: true } });
    const organization =
      existingOrganization ??
      (await tx.organization.create({ data: { slug, name: input.organizationName.trim() }, select: { id: true } }));
    const existingUser = await tx.user.findUnique({ where: { email }, select: { id: true } });
    const user = existingUser ?? (await tx.user.create({ data: { email, name: input.name.trim() }, select: { id: true } }));
    await tx.membership.upsert({
      where: { userId_organizationId: { userId: user.id, organizationId: organization.id } },
      create: { userId: user.id, organizationId: organization.id, role: input.role },
      update: { role: input.role },
    });
    return {
      organizationId: organization.id,
      userId: user.id,
      createdOrganization: !existingOrganization,
      createdUser: !existingUser,
    };
  });
}
