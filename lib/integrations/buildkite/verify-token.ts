import "server-only";

import type { CallOptions } from "@/lib/buildkite/client";
import { BuildkiteError } from "@/lib/buildkite/errors";
import type { AccessTokenInfo, BuildkiteOrganization } from "@/lib/buildkite/schemas";
import { isBuildkiteSlug } from "@/lib/buildkite/slug";
import { clock, type ConnectionDependencies } from "./dependencies";
import { logBuildkiteError } from "./failed-attempts";
import { buildkiteFailure, type ConnectionFailure } from "./failures";
import { assessToken, type TokenWarning } from "./policy";

/**
 * Step one of connect and rotate: what Buildkite says about a token. Describing the token and listing its
 * organisations are independent, so both calls go out together (one round trip, not two); the token's own answer
 * decides first, because a bad token fails both and its failure is the one to report.
 */

export type VerifiedToken = { info: AccessTokenInfo; organization: BuildkiteOrganization; warnings: TokenWarning[] };

export type TokenVerification = { ok: true; token: VerifiedToken } | { ok: false; failure: ConnectionFailure; tokenUuid?: string };

export type OrganizationRequirement =
  /** Connect: the admin's choice, if they made one; several organisations and no choice → choose first. */
  | { chosen?: string }
  /** Rotate: the token must reach the organisation already connected. */
  | { mustReach: BuildkiteOrganization };

export async function verifyToken(
  deps: Pick<ConnectionDependencies, "buildkite" | "now">,
  subject: { organizationId: string; token: string },
  requirement: OrganizationRequirement,
  options: CallOptions = {},
): Promise<TokenVerification> {
  const { organizationId, token } = subject;
  const failureFrom = (error: unknown): ConnectionFailure => {
    if (!(error instanceof BuildkiteError)) throw error;
    logBuildkiteError("buildkite.verify_token.failed", organizationId, error);
    return buildkiteFailure(error);
  };
  const [described, listed] = await Promise.allSettled([
    deps.buildkite.getAccessToken(token, options),
    deps.buildkite.listOrganizations(token, options),
  ]);
  if (described.status === "rejected") return { ok: false, failure: failureFrom(described.reason) };
  const info = described.value;

  const assessment = assessToken(info, clock(deps)());
  if (!assessment.ok) {
    const failure: ConnectionFailure =
      assessment.code === "token_expired"
        ? { code: "token_expired", expiredAt: assessment.expiredAt }
        : { code: "missing_scopes", missing: assessment.missing };
    return { ok: false, failure, tokenUuid: info.uuid };
  }
  if (listed.status === "rejected") return { ok: false, failure: failureFrom(listed.reason), tokenUuid: info.uuid };

  const picked = pickOrganization(listed.value, requirement);
  if (!picked.ok) return { ok: false, failure: picked.failure, tokenUuid: info.uuid };
  return { ok: true, token: { info, organization: picked.organization, warnings: assessment.warnings } };
}

function pickOrganization(
  organizations: BuildkiteOrganization[],
  requirement: OrganizationRequirement,
): { ok: true; organization: BuildkiteOrganization } | { ok: false; failure: ConnectionFailure } {
  if (organizations.length === 0) return { ok: false, failure: { code: "no_organizations" } };
  if ("mustReach" in requirement) {
    const same = organizations.find((candidate) => candidate.slug === requirement.mustReach.slug);
    return same
      ? { ok: true, organization: same }
      : { ok: false, failure: { code: "organization_mismatch", connected: { ...requirement.mustReach } } };
  }
  if (requirement.chosen) {
    const chosen = organizations.find((candidate) => candidate.slug === requirement.chosen);
    if (chosen) return { ok: true, organization: chosen };
    // Named back to the admin only when it is shaped like a slug: never arbitrary text in a message.
    return { ok: false, failure: { code: "organization_not_found", slug: isBuildkiteSlug(requirement.chosen) ? requirement.chosen : null } };
  }
  if (organizations.length === 1) return { ok: true, organization: organizations[0]! };
  return {
    ok: false,
    failure: { code: "organization_choice_required", organizations: organizations.map(({ slug, name }) => ({ slug, name })) },
  };
}
