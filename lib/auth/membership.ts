import "server-only";

import { cache } from "react";
import { getDb } from "@/lib/db/client";
import { auth } from "./auth";

export type Role = "admin" | "member";

/** Who is calling, in which organisation, with which role — read fresh from the database on every request, so a
 *  role removed a minute ago is removed now, whatever the session cookie says. */
export type Membership = {
  userId: string;
  email: string;
  name: string;
  organizationId: string;
  organizationName: string;
  role: Role;
};

// Cached per request: the settings layout and the page both ask, and one session read and one query answer both.
export const currentMembership = cache(async (): Promise<Membership | null> => {
  const session = await auth();
  const userId = session?.user?.id;
  if (!userId) return null;
  // One organisation per person for now: the oldest membership is the current one.
  const membership = await getDb().membership.findFirst({
    where: { userId },
    orderBy: { createdAt: "asc" },
    select: {
      role: true,
      user: { select: { id: true, email: true, name: true } },
      organization: { select: { id: true, name: true } },
    },
  });
  if (!membership) return null;
  return {
    userId: membership.user.id,
    email: membership.user.email,
    name: membership.user.name,
    organizationId: membership.organization.id,
    organizationName: membership.organization.name,
    role: membership.role,
  };
});

export type AdminCheck =
  | { ok: true; membership: Membership }
  | { ok: false; reason: "signed_out" | "not_admin"; message: string };

/** The check every state-changing server action makes first: a server action is a public POST endpoint. */
export async function requireAdmin(): Promise<AdminCheck> {
  const membership = await currentMembership();
  if (!membership) return { ok: false, reason: "signed_out", message: "Your session has ended. Sign in again to continue." };
  if (membership.role !== "admin") {
    return {
      ok: false,
      reason: "not_admin",
      message: `Only admins of ${membership.organizationName} can change integrations. Ask an admin to do this.`,
    };
  }
  return { ok: true, membership };
}
