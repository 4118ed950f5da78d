import type { Metadata } from "next";
import { BuildkiteCard } from "@/components/integrations/buildkite-card";
import { SettingsNav } from "@/components/layout/settings-nav";
import { membershipOrSignIn } from "@/lib/auth/membership";
import { getBuildkiteCardForView } from "@/lib/integrations/buildkite/presentation/card";
import {
  connectBuildkiteAction,
  diagnoseBuildkiteAction,
  disconnectBuildkiteAction,
  rotateBuildkiteAction,
  verifyBuildkiteAction,
} from "./buildkite/actions";

export const metadata: Metadata = { title: "Integrations" };

const ADMIN_ACTIONS = {
  connect: connectBuildkiteAction,
  rotate: rotateBuildkiteAction,
  disconnect: disconnectBuildkiteAction,
  verify: verifyBuildkiteAction,
  diagnose: diagnoseBuildkiteAction,
};

export default async function IntegrationsPage() {
  const membership = await membershipOrSignIn("/settings/integrations");
  const card = await getBuildkiteCardForView(membership.organizationId);
  const canManage = membership.role === "admin";

  return (
    <div className="stack">
      <SettingsNav current="integrations" isAdmin={canManage} />
      <div className="page__header">
        <p className="breadcrumb">Settings</p>
        <h1>Integrations</h1>
        <p className="page__lead">
          Connect the CI systems {membership.organizationName} uses.{" "}
          {canManage ? "As an admin you can connect and change integrations." : "Only admins can change integrations; you can see their status."}
        </p>
      </div>
      <BuildkiteCard card={card} actions={canManage ? ADMIN_ACTIONS : undefined} organizationName={membership.organizationName} />
    </div>
  );
}
