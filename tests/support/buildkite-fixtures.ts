import { REQUIRED_SCOPE_NAMES } from "../../lib/buildkite/scopes";
import type { BuildkiteScenario, BuildkiteStandIn, OkScenario, StandInOrganization } from "./buildkite-stand-in";

/**
 * Named Buildkite tokens and how the stand-in answers each, shared by integration and browser tests. The values
 * look like real tokens (so format checks see what they will see in production) but exist nowhere else.
 */

export const BUILDKITE_TOKENS = {
  good: "bkua_MTA.f3Kq8ZrT2vLx9NpB4mWc7YhD1sGe6JuA0o",
  goodExpiring: "bkua_MTA.a7Rb2XcV9kPq4LzN8tYw3HmF6dJs1GeU5i",
  expired: "bkua_MTA.Q9wE4rT7yU2iO5pA8sD1fG3hJ6kL0zXcVb",
  missingScopes: "bkua_MTA.z1Xc4Vb7Nm0Lk3Jh6Gf9Ds2Aq5We8Rt.Yu",
  extraScopes: "bkua_MTA.P0oI9uY8tR7eW6qA5sD4fG3hJ2kL1zMxNc",
  noOrganizations: "bkua_MTA.n0Org5Kp3Lq7Wx2Zc9Vb4Nm8Hj1Gf6Ds.Ta",
  severalOrganizations: "bkua_MTA.S3vRl0rGs7Bq2Wn9Xk4Pz1Mc8Ly5Hd6Jf",
  forbidden: "bkua_MTA.F0rB1dDn4Kx7Qz2Wv9Ls3Mp6Nc8Rt5Yh.Ge",
  rateLimited: "bkua_MTA.r4T3Lm1Ts9Qx2Wz7Kp5Nc8Vb0Hj6Gf3Ds4A",
  unavailable: "bkua_MTA.U5nAv4iL3aB2lE1xQ9wZ8kP7mN6cV0bH.sJ",
  flakyOnce: "bkua_MTA.fL4kY0nC3eQ8wZ2xP6mV9bN1hJ7gT5rS.dK",
  resetOnce: "bkua_MTA.R3sEt0nCe6Qw9Zx2Kp8Lm5Nv1Bc4Hj7Gf.Dt",
  resetAlways: "bkua_MTA.rE5eTaLw4Ys9Qk2Xz7Pm1Nc6Vb8Hj0Gf3Ds",
  hang: "bkua_MTA.H4nG0Qw7Zx2Kp9Lm5Nv8Bc1Hj6Gf3Ds.RtYe",
  htmlBody: "bkua_MTA.hTm1B0dY7Qw4Zx9Kp2Lm6Nv3Bc8Hj5Gf1DsR",
  missingUuid: "bkua_MTA.m1Ss0nGuU1d4Qw8Zx5Kp3Lm9Nv2Bc7Hj.Gf",
  legacy: "4f6c9e2b8a1d3f5e7c0b9a8d6e4f2a1c3b5d7e9f",
  noBuilds: "bkua_MTA.nB0u1ld5Qx7Wz2Kp9Lm4Nc6Vb8Hj3Gf1Ds.Ye",
  missingBuildLogs: "bkua_MTA.L0gS5c0p3Mx8Qw2Zk7Pn4Vc9Bh1Jf6Gd.Rs",
} as const;

export type BuildkiteFixtureName = keyof typeof BUILDKITE_TOKENS;

export const ACME_ORGANIZATION: StandInOrganization = { slug: "acme-inc", name: "Acme Inc" };

export const SEVERAL_ORGANIZATIONS: readonly StandInOrganization[] = [
  ACME_ORGANIZATION,
  { slug: "acme-labs", name: "Acme Labs" },
  { slug: "road-runner-ops", name: "Road Runner Ops" },
];

export const FIXTURE_OWNER = { name: "Buildkite Service Account", email: "buildkite-integration@acme.test" } as const;

const DAY_MS = 24 * 60 * 60 * 1000;

const good: OkScenario = {
  kind: "ok",
  scopes: REQUIRED_SCOPE_NAMES,
  description: "Gitar Integration",
  owner: FIXTURE_OWNER,
  createdOffsetMs: -7 * DAY_MS,
  expiresOffsetMs: null,
  dateFormat: "docs",
  organizations: [ACME_ORGANIZATION],
};

export const BUILDKITE_FIXTURES: Record<BuildkiteFixtureName, BuildkiteScenario> = {
  good,
  // ISO dates here, so browser tests also see the second date format Buildkite uses.
  goodExpiring: { ...good, expiresOffsetMs: 3 * DAY_MS, dateFormat: "iso" },
  // Buildkite answers an expired token with its 401, which the stand-in does for any expiry in the past.
  expired: { ...good, createdOffsetMs: -31 * DAY_MS, expiresOffsetMs: -1 * DAY_MS },
  missingScopes: { ...good, scopes: REQUIRED_SCOPE_NAMES.filter((s) => s !== "read_job_env" && s !== "read_suites") },
  extraScopes: { ...good, scopes: [...REQUIRED_SCOPE_NAMES, "write_builds", "write_pipelines"] },
  // Also what a token looks like after an org admin removed the organisation from it: /v2/access-token still
  // answers 200, but /v2/organizations/acme-inc and everything under it answer 404.
  noOrganizations: { ...good, organizations: [] },
  severalOrganizations: { ...good, organizations: SEVERAL_ORGANIZATIONS },
  forbidden: { kind: "forbidden" },
  rateLimited: { kind: "rate_limited", resetSeconds: 42 },
  unavailable: { kind: "server_error", status: 503 },
  flakyOnce: { kind: "server_error", status: 503, failures: 1, then: good },
  resetOnce: { kind: "connection_reset", failures: 1, then: good },
  resetAlways: { kind: "connection_reset" },
  hang: { kind: "hang" },
  htmlBody: { kind: "html_body" },
  missingUuid: { kind: "missing_uuid", base: good },
  legacy: good,
  // Every scope, but the organisation has no builds yet: diagnostics can only check the job scopes by the list.
  noBuilds: { ...good, organizationData: { [ACME_ORGANIZATION.slug]: { builds: [] } } },
  // Every scope but read_build_logs: diagnostics see builds, artifacts and env, and a 403 naming the scope for logs.
  missingBuildLogs: { ...good, scopes: REQUIRED_SCOPE_NAMES.filter((s) => s !== "read_build_logs") },
};

export function registerFixtures(standIn: Pick<BuildkiteStandIn, "register">): void {
  for (const name of Object.keys(BUILDKITE_TOKENS) as BuildkiteFixtureName[]) {
    standIn.register(BUILDKITE_TOKENS[name], BUILDKITE_FIXTURES[name]);
  }
}
