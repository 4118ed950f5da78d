import "server-only";

import { redirect } from "next/navigation";
import { cache } from "react";
import { getDb } from "@/lib/db/client";
import { readForView } from "@/lib/http/view-reads";
import { signedInUserId } from "./session";

export type Role = "admin" | "member";

/** Who is calling, in which organisation, with which role — read from the database, not the session cookie, so a
 *  role removed a minute ago is removed now. A page view may read it from the view cache, which drops it when it
 *  changes (lib/http/view-reads.ts); a server action's check always reads the database. */
export type Membership = {
  userId: string;
  email: string;
  name: string;
  organizationId: string;
  organizationName: string;
  role: Role;
};

const MEMBERSHIP_FIELDS = {
  role: true,
  user: { select: { id: true, email: true, name: true } },
  organization: { select: { id: true, name: true } },
} as const;

type MembershipRow = {
  role: Role;
  user: { id: string; email: string; name: string };
  organization: { id: string; name: string };
};

const toMembership = (row: MembershipRow): Membership => ({
  userId: row.user.id,
  email: row.user.email,
  name: row.user.name,
  organizationId: row.organization.id,
  organizationName: row.organization.name,
  role: row.role,
});

// Cached per request: the settings layout and the page both ask, and one session read and one query answer both.
export const currentMembership = cache(async (): Promise<Membership | null> => {
  const userId = await signedInUserId();
  if (!userId) return null;
  return readForView("membership", userId, async () => {
    // One organisation per person for now: the oldest membership is the current one.
    const row = await getDb().membership.findFirst({ where: { userId }, orderBy: { createdAt: "asc" }, select: MEMBERSHIP_FIELDS });
    return row ? toMembership(row) : null;
  });
});

/** A settings page's membership; without one, to sign-in, and back to `path` afterwards. */
export async function membershipOrSignIn(path: `/settings/${string}`): Promise<Membership> {
  const membership = await currentMembership();
  if (!membership) redirect(`/sign-in?callbackUrl=${path}`);
  return membership;
}

/** The signed-in person's membership of one given organisation (the API names it in the path), or null. */
export async function membershipIn(organizationId: string): Promise<Membership | null> {
  const userId = await signedInUserId();
  if (!userId) return null;
  const row = await getDb().membership.findUnique({ where: { userId_organizationId: { userId, organizationId } }, select: MEMBERSHIP_FIELDS });
  return row ? toMembership(row) : null;
}

/** Whether anyone is signed in, for telling "sign in" (401) from "not yours" (404). */
export async function isSignedIn(): Promise<boolean> {
  return Boolean(await signedInUserId());
}

export type AdminCheck =
  | { ok: true; membership: Membership }
  | { ok: false; reason: "signed_out"; message: string }
  /** The membership is given so the refusal can be audited in that organisation. */
  | { ok: false; reason: "not_admin"; message: string; membership: Membership };

/** The check every state-changing server action makes first: a server action is a public POST endpoint. */
/** `needsAdminTo` finishes "Only admins of <organisation> can …" for a member who is refused. */
export async function requireAdmin(needsAdminTo = "change integrations"): Promise<AdminCheck> {
  const membership = await currentMembership();
  if (!membership) return { ok: false, reason: "signed_out", message: "Your session has ended. Sign in again to continue." };
  if (membership.role !== "admin") {
    return {
      ok: false,
      reason: "not_admin",
      message: `Only admins of ${membership.organizationName} can ${needsAdminTo}. Ask an admin to do this.`,
      membership,
    };
  }
  return { ok: true, membership };
}
