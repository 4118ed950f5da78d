import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { BuildkiteCard } from "@/components/integrations/buildkite-card";
import { currentMembership } from "@/lib/auth/membership";
import { getBuildkiteCard } from "@/lib/integrations/buildkite/status";
import { connectBuildkiteAction } from "./buildkite/actions";

export const metadata: Metadata = { title: "Integrations" };

export default async function IntegrationsPage() {
  const membership = await currentMembership();
  if (!membership) redirect("/sign-in?callbackUrl=/settings/integrations");
  const card = await getBuildkiteCard(membership.organizationId);
  const canManage = membership.role === "admin";

  return (
    <div className="stack">
      <div className="page__header">
        <p className="breadcrumb">Settings</p>
        <h1>Integrations</h1>
        <p className="page__lead">
          Connect the CI systems {membership.organizationName} uses.{" "}
          {canManage ? "As an admin you can connect and change integrations." : "Only admins can change integrations; you can see their status."}
        </p>
      </div>
      <BuildkiteCard
        card={card}
        connectAction={canManage ? connectBuildkiteAction : undefined}
        organizationName={membership.organizationName}
      />
    </div>
  );
}
