import "server-only";

// What the Buildkite card on the Integrations page shows: built on the server for the page, safe to hand to
// client components. It carries no token and nothing that identifies or unlocks the stored secret.

import { REQUIRED_SCOPES } from "@/lib/buildkite/scopes";
import { getDb } from "@/lib/db/client";
import { readForView } from "@/lib/http/view-reads";
import type { Attention } from "../health";
import { describeAttention, describeWarning, type AttentionText } from "./messages";
import { tokenWarnings } from "../policy";
import { findConnectionForDisplay } from "../repository";

export type ScopeRow = { scope: string; purpose: string; granted: boolean };


export type ConnectionDetails = {
  buildkiteOrg: { slug: string; name: string; url: string };
  tokenDescription: string | null;
  owner: { name: string | null; email: string | null };
  tokenUuid: string;
  tokenLastFour: string;
  tokenCreatedAt: string | null;
  tokenExpiresAt: string | null;
  scopes: ScopeRow[];
  extraScopes: string[];
  /** "Ada Admin (ada@acme.com)", or "API key “deploy-bot”"; null once that user or key is gone. */
  connectedBy: string | null;
  connectedAt: string;
  rotatedBy: string | null;
  rotatedAt: string | null;
  lastVerifiedAt: string;
  nextCheckAt: string;
};

export type BuildkiteCardData =
  | { state: "not_connected" }
  | {
      state: "connected" | "needs_attention";
      details: ConnectionDetails;
      warnings: string[];
      /** Why it needs attention and what to do, in words the admin can act on. */
      attention: AttentionText | null;
      /** The last check could not reach Buildkite; the status is unchanged and the schedule retries. */
      checkNotice: string | null;
    };

export const CHECK_WILL_RETRY = "Last check could not reach Buildkite — will retry.";

/** The card as the API reports it: from the database. */
export async function getBuildkiteCard(organizationId: string, now = new Date()): Promise<BuildkiteCardData> {
  return cardOf(await findConnectionForDisplay(getDb(), organizationId), now);
}

/** The card as the Integrations page shows it: on a plain page view, the row may come from the view cache. */
export async function getBuildkiteCardForView(organizationId: string, now = new Date()): Promise<BuildkiteCardData> {
  return cardOf(await readForView("connection", organizationId, () => findConnectionForDisplay(getDb(), organizationId)), now);
}

// Built from the row on every view, so the warnings ("expires in 3 days") are as of now even when the row was kept.
function cardOf(row: Awaited<ReturnType<typeof findConnectionForDisplay>>, now: Date): BuildkiteCardData {
  if (!row) return { state: "not_connected" };
  const granted = new Set(row.scopes);
  const required = new Set<string>(REQUIRED_SCOPES.map((entry) => entry.scope));
  const attention = row.status === "needs_attention" ? attentionOf(row.attentionCode, row.attentionDetail) : null;
  const warnings = tokenWarnings({ scopes: row.scopes, expiresAt: row.tokenExpiresAt }, now)
    // The attention message already says it.
    .filter((warning) => !(warning.code === "expires_soon" && attention?.code === "expires_soon"))
    .map(describeWarning);
  return {
    state: row.status,
    warnings,
    attention: attention ? describeAttention(attention) : null,
    checkNotice: row.lastCheckOutcome === "unreachable" && row.status === "connected" ? CHECK_WILL_RETRY : null,
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
      connectedBy: actorName(row.connectedBy, row.connectedByKey),
      connectedAt: row.connectedAt.toISOString(),
      rotatedBy: actorName(row.rotatedBy, row.rotatedByKey),
      rotatedAt: row.rotatedAt?.toISOString() ?? null,
      lastVerifiedAt: row.lastVerifiedAt.toISOString(),
      nextCheckAt: row.nextVerifyAt.toISOString(),
    },
  };
}

/** A stored reason, read defensively: an unknown code still yields a message rather than a crash. */
function attentionOf(code: string | null, detail: unknown): Attention {
  const facts = detail !== null && typeof detail === "object" ? (detail as Partial<Attention>) : {};
  return { ...facts, code: (code ?? facts.code ?? "token_rejected") as Attention["code"] };
}

function actorName(person: { name: string; email: string } | null, key: { name: string } | null): string | null {
  if (person) return `${person.name} (${person.email})`;
  return key ? `API key “${key.name}”` : null;
}
