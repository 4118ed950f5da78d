import { Alert } from "@/components/ui/alert";
import { Card } from "@/components/ui/card";
import type { BuildkiteCard as CardData } from "@/lib/integrations/buildkite/card";
import { ConnectForm, type ConnectAction } from "./connect-form";
import { ConnectionDetails } from "./connection-details";
import { SetupGuide } from "./setup-guide";
import { StatusBadge } from "./status-badge";

type BuildkiteCardProps = {
  card: CardData;
  /** Present only for admins: without it the card is read-only. */
  connectAction?: ConnectAction;
  organizationName: string;
};

export function BuildkiteCard({ card, connectAction, organizationName }: BuildkiteCardProps) {
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
        {card.state === "not_connected" ? (
          connectAction ? (
            <div className="two-col">
              <SetupGuide />
              <div>
                <h3 className="section-title">Connect</h3>
                <ConnectForm action={connectAction} />
              </div>
            </div>
          ) : (
            <p>
              Buildkite is not connected for {organizationName} yet. Only an admin can connect it: ask an admin of{" "}
              {organizationName}.
            </p>
          )
        ) : (
          <>
            {card.problem ? (
              <Alert tone="warning" title="This connection needs attention">
                <p>{card.problem}</p>
              </Alert>
            ) : null}
            {card.warnings.map((warning) => (
              <Alert tone="warning" key={warning}>
                <p>{warning}</p>
              </Alert>
            ))}
            <ConnectionDetails details={card.details} />
            {card.state === "needs_attention" && connectAction ? (
              <div>
                <h3 className="section-title">Connect a new token</h3>
                <ConnectForm action={connectAction} />
              </div>
            ) : null}
          </>
        )}
      </div>
    </Card>
  );
}
