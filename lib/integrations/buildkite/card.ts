// What the Buildkite card on the Integrations page shows: built on the server for the page, safe to hand to
// client components. It carries no token and nothing that identifies or unlocks the stored secret.

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
  connectedBy: { name: string; email: string } | null;
  connectedAt: string;
  lastVerifiedAt: string;
};

export type BuildkiteCard =
  | { state: "not_connected" }
  | {
      state: "connected" | "needs_attention";
      details: ConnectionDetails;
      warnings: string[];
      /** Why it needs attention, in words the admin can act on. */
      problem: string | null;
    };
