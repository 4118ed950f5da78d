import { Card } from "@/components/ui/card";
import type { BuildkiteCardData } from "@/lib/integrations/buildkite/presentation/card";
import { ConnectionOverview } from "./connection-overview";
import { ManageBuildkite, type BuildkiteActions } from "./manage-buildkite";
import { StatusBadge } from "./status-badge";

type BuildkiteCardProps = {
  card: BuildkiteCardData;
  /** Present only for admins: without it the card is read-only. */
  actions?: BuildkiteActions;
  organizationName: string;
};

/**
 * The card's frame is rendered here, on the server; what it shows of the connection is rendered by client components
 * from the card's DTO (ManageBuildkite for admins, ConnectionOverview for members). So the page's RSC payload carries
 * the DTO, about 2 KiB, rather than the rendered tree, which it would otherwise hold beside the same tree as HTML
 * (the page's HTML went from 33 to 21 KiB; docs/benchmarks.md, part 2).
 */
export function BuildkiteCard({ card, actions, organizationName }: BuildkiteCardProps) {
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
          <ManageBuildkite actions={actions} card={card} organizationName={organizationName} />
        ) : card.state === "not_connected" ? (
          <p>
            Buildkite is not connected for {organizationName} yet. Only an admin can connect it: ask an admin of{" "}
            {organizationName}.
          </p>
        ) : (
          <ConnectionOverview card={card} />
        )}
      </div>
    </Card>
  );
}
