import "server-only";

import { REQUIRED_SCOPES } from "@/lib/buildkite/scopes";
import { getDb } from "@/lib/db/client";
import type { BuildkiteCard } from "./card";
import { describeWarning } from "./messages";
import { tokenWarnings } from "./policy";
import { findConnectionForDisplay } from "./repository";

const PROBLEMS: Record<string, string> = {
  token_rejected: "Buildkite no longer accepts this token (expired or revoked). Connect a new token.",
  token_forbidden: "Buildkite refuses this token access. Connect a token with all nine scopes.",
  missing_scopes: "The token lost some of the scopes the product needs. Connect a token with all nine scopes.",
  token_expired: "The token has expired. Connect a new token.",
};

export async function getBuildkiteCard(organizationId: string, now = new Date()): Promise<BuildkiteCard> {
  const row = await findConnectionForDisplay(getDb(), organizationId);
  if (!row) return { state: "not_connected" };
  const granted = new Set(row.scopes);
  const required = new Set<string>(REQUIRED_SCOPES.map((entry) => entry.scope));
  return {
    state: row.status === "connected" ? "connected" : "needs_attention",
    warnings: tokenWarnings({ scopes: row.scopes, expiresAt: row.tokenExpiresAt }, now).map(describeWarning),
    problem:
      row.status === "needs_attention"
        ? (PROBLEMS[row.lastErrorCode ?? ""] ?? "The last check of this token failed. Connect a new token.")
        : null,
    details: {
      buildkiteOrg: {
        slug: row.buildkiteOrgSlug,
        name: row.buildkiteOrgName,
        url: `https://buildkite.com/${encodeURIComponent(row.buildkiteOrgSlug)}`,
      },
      tokenDescription: row.tokenDescription,
      owner: { name: row.tokenOwnerName, email: row.tokenOwnerEmail },
      tokenUuid: row.tokenUuid,
      tokenLastFour: row.tokenLastFour,
      tokenCreatedAt: row.tokenCreatedAt?.toISOString() ?? null,
      tokenExpiresAt: row.tokenExpiresAt?.toISOString() ?? null,
      scopes: REQUIRED_SCOPES.map(({ scope, purpose }) => ({ scope, purpose, granted: granted.has(scope) })),
      extraScopes: row.scopes.filter((scope) => !required.has(scope)),
      connectedBy: row.connectedBy,
      connectedAt: row.connectedAt.toISOString(),
      lastVerifiedAt: row.lastVerifiedAt.toISOString(),
    },
  };
}
