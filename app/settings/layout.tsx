import { redirect } from "next/navigation";
import { AppHeader } from "@/components/layout/app-header";
import { currentMembership } from "@/lib/auth/membership";
import { signOutAction } from "../sign-in/actions";

export default async function SettingsLayout({ children }: { children: React.ReactNode }) {
  const membership = await currentMembership();
  if (!membership) redirect("/sign-in?callbackUrl=/settings/integrations");
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
