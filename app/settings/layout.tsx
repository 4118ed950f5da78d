import { redirect } from "next/navigation";
import { AppHeader } from "@/components/layout/app-header";
import { currentMembership, isSignedIn } from "@/lib/auth/membership";
import { signOutAction } from "../sign-in/actions";

export default async function SettingsLayout({ children }: { children: React.ReactNode }) {
  const membership = await currentMembership();
  // Signed in without a membership (removed meanwhile): the sign-in page would send them straight back here.
  if (!membership) redirect((await isSignedIn()) ? "/not-a-member" : "/sign-in?callbackUrl=/settings/integrations");
  return (
    <>
      <AppHeader
        organizationName={membership.organizationName}
        userName={membership.name}
        email={membership.email}
        role={membership.role}
        signOutAction={signOutAction}
      />
      <main id="main" className="page">
        {children}
      </main>
    </>
  );
}
