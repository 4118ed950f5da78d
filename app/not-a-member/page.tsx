import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { DEFAULT_AFTER_SIGN_IN } from "@/lib/auth/callback-url";
import { currentMembership } from "@/lib/auth/membership";
import { signedInUserId } from "@/lib/auth/session";
import { getDb } from "@/lib/db/client";
import { signOutAction } from "../sign-in/actions";

export const metadata: Metadata = { title: "Not a member" };

/**
 * Where a signed-in person without a membership lands (removed from their organisation while signed in): the
 * settings would send them to sign in, and signing in would send them back. Here they see who they are signed in
 * as, and can sign out. Outside /settings, so the settings layout never redirects it.
 */
export default async function NotAMemberPage() {
  const userId = await signedInUserId();
  if (!userId) redirect("/sign-in");
  if (await currentMembership()) redirect(DEFAULT_AFTER_SIGN_IN);
  const user = await getDb().user.findUnique({ where: { id: userId }, select: { email: true, name: true } });

  return (
    <main id="main" className="auth-page">
      <div className="card auth-card">
        <h1>You are not a member of an organisation</h1>
        <p>
          {user ? (
            <>
              You are signed in as {user.name} (<strong>{user.email}</strong>), but that account no longer belongs to any
              organisation here.
            </>
          ) : (
            <>You are signed in with an account that no longer exists here.</>
          )}{" "}
          Ask an admin of your organisation to add you again, then sign in.
        </p>
        <form action={signOutAction}>
          <button type="submit" className="button button--primary">
            Sign out
          </button>
        </form>
      </div>
    </main>
  );
}
