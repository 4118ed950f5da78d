import { Card } from "@/components/ui/card";
import type { BuildkiteCardData } from "@/lib/integrations/buildkite/presentation/card";
import { ConnectionOverview } from "./connection-overview";
import { ManageBuildkite, type BuildkiteActions } from "./manage-buildkite";
import { SetupGuide } from "./setup-guide";
import { StatusBadge } from "./status-badge";

type BuildkiteCardProps = {
  card: BuildkiteCardData;
  /** Present only for admins: without it the card is read-only. */
  actions?: BuildkiteActions;
  organizationName: string;
};

export function BuildkiteCard({ card, actions, organizationName }: BuildkiteCardProps) {
  const overview = card.state === "not_connected" ? null : <ConnectionOverview card={card} />;
  return (
    <Card labelledBy="buildkite-title">
      <div className="card__header">
        <div className="card__title">
          <span className="logo-mark" aria-hidden="true">
            bk
          </span>
          <div>
            <h2 id="buildkite-title">Buildkite</h2>
            <p className="card__subtitle">
              Connect Buildkite so Gitar can watch your builds, analyse failures and propose fixes when CI fails.
            </p>
          </div>
        </div>
        <StatusBadge state={card.state} />
      </div>
      <div className="card__body">
        {actions ? (
          <ManageBuildkite
            actions={actions}
            connected={card.state !== "not_connected"}
            organizationName={organizationName}
            buildkiteOrgName={card.state === "not_connected" ? null : card.details.buildkiteOrg.name}
            currentLastFour={card.state === "not_connected" ? null : card.details.tokenLastFour}
            setupGuide={<SetupGuide />}
            overview={overview}
          />
        ) : (
          (overview ?? (
            <p>
              Buildkite is not connected for {organizationName} yet. Only an admin can connect it: ask an admin of{" "}
              {organizationName}.
            </p>
          ))
        )}
      </div>
    </Card>
  );
}
