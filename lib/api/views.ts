import "server-only";

import type { BuildkiteCardData } from "@/lib/integrations/buildkite/presentation/card";
import { describeFailure, describeRevokeAtDisconnect, describeRevokeOfPrevious } from "@/lib/integrations/buildkite/presentation/messages";
import type { RevokeOutcome } from "@/lib/integrations/buildkite/revoke";
import type { ConnectionBody } from "./schemas";

// Response bodies built from what the page shows (the card's DTO), so the API says exactly what the page says.

export function connectionBody(card: BuildkiteCardData): ConnectionBody {
  if (card.state === "not_connected") return { status: "not_connected" };
  const { details } = card;
  return {
    status: card.state,
    buildkiteOrganization: details.buildkiteOrg,
    token: {
      uuid: details.tokenUuid,
      lastFour: details.tokenLastFour,
      description: details.tokenDescription,
      owner: details.owner,
      createdAt: details.tokenCreatedAt,
      expiresAt: details.tokenExpiresAt,
    },
    scopes: details.scopes,
    extraScopes: details.extraScopes,
    connectedBy: details.connectedBy,
    connectedAt: details.connectedAt,
    rotatedBy: details.rotatedBy,
    rotatedAt: details.rotatedAt,
    lastVerifiedAt: details.lastVerifiedAt,
    nextCheckAt: details.nextCheckAt,
    attention: card.attention,
    lastCheckNotice: card.checkNotice,
    warnings: card.warnings,
  };
}

/** How revoking the replaced token went, with the words the page uses when it failed. */
export function rotationRevokeBody(revoke: RevokeOutcome | { status: "not_requested" }, tokenLastFour: string) {
  if (revoke.status !== "failed") return { status: revoke.status };
  return { status: revoke.status, detail: revoke.failure.code === "secret_unreadable" ? describeFailure(revoke.failure).message : describeRevokeOfPrevious(revoke, tokenLastFour).text };
}

/** How revoking the disconnected token went, with the words the page uses when it failed. */
export function disconnectRevokeBody(revoke: RevokeOutcome | { status: "not_requested" }) {
  if (revoke.status !== "failed") return { status: revoke.status };
  return { status: revoke.status, detail: describeRevokeAtDisconnect(revoke).text };
}
