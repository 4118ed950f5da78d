// No "server-only" guard: the members:add script (plain Node) uses this. It holds no secrets.
import { normaliseEmail } from "../auth/email";
import type { Database } from "../db/client";
import { freeDemoSlug } from "./demo-slug";

export type AddMemberInput = {
  organizationName: string;
  email: string;
  name: string;
  role: "admin" | "member";
};

export type AddMemberResult = {
  organizationId: string;
  userId: string;
  createdOrganization: boolean;
  createdUser: boolean;
  /** A demo organisation had this slug and was given another (`movedDemoOrganization.slug`) to make way. */
  movedDemoOrganization?: { slug: string };
};

/** A person who cannot be added: a demo account, whose password is published. */
export class DemoAccountError extends Error {
  constructor(email: string) {
    super(`${email} is a demo account (its password is published on the demo sign-in page); it cannot join a real organisation.`);
    this.name = "DemoAccountError";
  }
}

/** Another organisation's name makes the same slug: joining it by this name could hand one customer's people to another. */
export class OrganizationNameConflictError extends Error {
  constructor(requested: string, existing: { name: string; slug: string }) {
    super(
      `An organisation named “${existing.name}” already exists with the slug ${existing.slug}, which “${requested}” would also get. ` +
        `To add this person to it, give its exact name; for a new organisation, choose a name that differs by more than case and punctuation.`,
    );
    this.name = "OrganizationNameConflictError";
  }
}

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
 *
 * Only real organisations: a demo organisation (demo mode's sample data) is never matched, whatever its name. If
 * one holds the slug this organisation needs, the demo one moves to another slug. People with a password (the demo
 * accounts; real people sign in through an identity provider) are refused.
 */
export async function addMember(db: Database, input: AddMemberInput): Promise<AddMemberResult> {
  const email = normaliseEmail(input.email);
  const slug = slugFor(input.organizationName);
  return db.$transaction(async (tx) => {
    const existingUser = await tx.user.findUnique({ where: { email }, select: { id: true, passwordHash: true } });
    if (existingUser?.passwordHash) throw new DemoAccountError(email);

    let existingOrganization = await tx.organization.findUnique({ where: { slug }, select: { id: true, demo: true, name: true } });
    let movedDemoOrganization: AddMemberResult["movedDemoOrganization"];
    if (existingOrganization?.demo) {
      movedDemoOrganization = { slug: await freeDemoSlug(tx, slug) };
      await tx.organization.update({ where: { id: existingOrganization.id }, data: { slug: movedDemoOrganization.slug } });
      existingOrganization = null;
    }
    // The slug is lossy ("Acme Corp" and "ACME corp!" share one): only the exact name joins an existing organisation.
    const name = input.organizationName.trim();
    if (existingOrganization && existingOrganization.name !== name) throw new OrganizationNameConflictError(name, { name: existingOrganization.name, slug });
    const organization =
      existingOrganization ??
      (await tx.organization.create({ data: { slug, name, demo: false }, select: { id: true, demo: true, name: true } }));
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
      ...(movedDemoOrganization ? { movedDemoOrganization } : {}),
    };
  });
}
