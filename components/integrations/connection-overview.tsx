"use client";

// A client component so that the page sends the card's DTO, not its rendered tree (see buildkite-card.tsx).

import { Alert } from "@/components/ui/alert";
import type { BuildkiteCardData } from "@/lib/integrations/buildkite/presentation/card";
import { ConnectionDetails } from "./connection-details";

type Connected = Exclude<BuildkiteCardData, { state: "not_connected" }>;

/** The connected card's status and details: why it needs attention and the fix, then what is connected. */
export function ConnectionOverview({ card }: { card: Connected }) {
  return (
    <>
      {card.attention ? (
        <Alert tone="warning" title="This connection needs attention">
          <p>{card.attention.problem}</p>
          <p>
            <strong>What to do:</strong> {card.attention.fix}
          </p>
        </Alert>
      ) : null}
      {card.checkNotice ? (
        <Alert tone="info">
          <p>{card.checkNotice}</p>
        </Alert>
      ) : null}
      {card.warnings.map((warning) => (
        <Alert tone="warning" key={warning}>
          <p>{warning}</p>
        </Alert>
      ))}
      <ConnectionDetails details={card.details} />
    </>
  );
}
