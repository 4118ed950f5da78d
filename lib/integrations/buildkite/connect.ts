import "server-only";

import { randomUUID } from "node:crypto";
import { BuildkiteError } from "@/lib/buildkite/errors";
import { getBuildkiteClient, type BuildkiteClient } from "@/lib/buildkite/client";
import type { AccessTokenInfo, BuildkiteOrganization } from "@/lib/buildkite/schemas";
import { getDb, type Database } from "@/lib/db/client";
import { log } from "@/lib/log";
import { getSecretStore } from "@/lib/secrets";
import { SecretStoreError, type SecretRef, type SecretStore } from "@/lib/secrets/store";
import { recordAuditEvent } from "./audit";
import type { ConnectFailure } from "./outcomes";
import { assessToken, type TokenWarning } from "./policy";
import { findSecretRef, saveConnectedRecord } from "./repository";

/**
 * Connect Buildkite: verify the token with Buildkite, store it, then record the connection — in that order, so
 * that a failure at any step leaves the previous state as it was:
 *   - before the secret is written, nothing has changed;
 *   - the secret is read back before anything points at it, so "connected" always has a readable secret;
 *   - if recording fails, the secret store is put back (the previous version made current again, or the new
 *     secret removed) and the previous record, untouched, still points at the previous version.
 * Retrying converges: the secret is one per organisation and the record is one per organisation.
 */

export type ConnectDependencies = {
  db: Database;
  buildkite: BuildkiteClient;
  secrets: SecretStore;
  now?: () => Date;
};

export function defaultConnectDependencies(): ConnectDependencies {
  return { db: getDb(), buildkite: getBuildkiteClient(), secrets: getSecretStore() };
}

export type ConnectRequest = {
  organizationId: string;
  actor: { userId: string; email: string };
  token: string;
  /** The Buildkite organisation the admin picked, when the token reaches several. */
  buildkiteOrgSlug?: string;
};

export type ConnectResult =
  | { kind: "connected"; organization: BuildkiteOrganization; warnings: TokenWarning[] }
  | { kind: "choose_organization"; organizations: BuildkiteOrganization[] }
  | { kind: "failed"; failure: ConnectFailure };

class ConnectStop extends Error {
  constructor(readonly failure: ConnectFailure) {
    super(failure.code);
  }
}

export async function connectBuildkite(request: ConnectRequest, deps: ConnectDependencies): Promise<ConnectResult> {
  const now = deps.now ?? (() => new Date());
  const audit = (outcome: "success" | "failure", code: string | undefined, detail: Record<string, unknown>) =>
    recordAuditEvent(deps.db, {
      organizationId: request.organizationId,
      actor: request.actor,
      action: "buildkite.connect",
      outcome,
      code,
      detail: JSON.parse(JSON.stringify(detail)),
    });

  let tokenInfo: AccessTokenInfo | undefined;
  try {
    tokenInfo = await call(() => deps.buildkite.getAccessToken(request.token));
    const assessment = assessToken(tokenInfo, now());
    if (!assessment.ok) {
      throw new ConnectStop(
        assessment.code === "token_expired"
          ? { code: "token_expired", expiredAt: assessment.expiredAt }
          : { code: "missing_scopes", missing: assessment.missing },
      );
    }

    const organizations = await call(() => deps.buildkite.listOrganizations(request.token));
    if (organizations.length === 0) throw new ConnectStop({ code: "no_organizations" });
    let organization: BuildkiteOrganization | undefined;
    if (request.buildkiteOrgSlug) {
      organization = organizations.find((candidate) => candidate.slug === request.buildkiteOrgSlug);
      if (!organization) throw new ConnectStop({ code: "organization_not_found", slug: request.buildkiteOrgSlug });
    } else if (organizations.length === 1) {
      organization = organizations[0];
    } else {
      return { kind: "choose_organization", organizations };
    }
    const chosen = organization!;

    const previous = await findSecretRef(deps.db, request.organizationId).catch((error: unknown) => {
      log.error("buildkite.connect.read_failed", { organizationId: request.organizationId }, error);
      throw new ConnectStop({ code: "database_failed" });
    });
    const requestToken = randomUUID();
    const written = await store(() =>
      deps.secrets.writeBuildkiteToken(request.organizationId, request.token, { requestToken }),
    ).catch(async (error: unknown) => {
      // A timeout or a lost connection does not say whether the write landed: undo it in case it did.
      const failure = error instanceof ConnectStop ? error.failure : undefined;
      if (failure?.code === "secret_store_failed" && (failure.reason === "timeout" || failure.reason === "unavailable")) {
        await deps.secrets.abandonWrite(request.organizationId, requestToken, previous).catch((undoError: unknown) =>
          log.error("buildkite.connect.abandon_failed", { organizationId: request.organizationId }, undoError),
        );
      }
      throw error;
    });
    const connectedAt = now();
    try {
      const readBack = await store(() => deps.secrets.read(written));
      if (readBack !== request.token) throw new ConnectStop({ code: "secret_store_failed", reason: "corrupt" });
      await deps.db.$transaction(async (tx) => {
        await saveConnectedRecord(tx, {
          organizationId: request.organizationId,
          buildkiteOrgSlug: chosen.slug,
          buildkiteOrgName: chosen.name,
          tokenUuid: tokenInfo!.uuid,
          tokenDescription: tokenInfo!.description,
          tokenOwnerName: tokenInfo!.owner?.name ?? null,
          tokenOwnerEmail: tokenInfo!.owner?.email ?? null,
          tokenLastFour: request.token.slice(-4),
          scopes: [...tokenInfo!.scopes].sort(),
          tokenCreatedAt: tokenInfo!.createdAt,
          tokenExpiresAt: tokenInfo!.expiresAt,
          secret: written,
          connectedById: request.actor.userId,
          connectedAt,
        });
        await recordAuditEvent(tx, {
          organizationId: request.organizationId,
          actor: request.actor,
          action: "buildkite.connect",
          outcome: "success",
          detail: { buildkiteOrganization: chosen.slug, tokenUuid: tokenInfo!.uuid, scopes: tokenInfo!.scopes },
        });
      });
    } catch (error) {
      await undoSecretWrite(deps.secrets, request.organizationId, written, previous);
      if (error instanceof ConnectStop) throw error;
      if (error instanceof SecretStoreError) throw new ConnectStop({ code: "secret_store_failed", reason: error.code });
      log.error("buildkite.connect.record_failed", { organizationId: request.organizationId }, error);
      throw new ConnectStop({ code: "database_failed" });
    }

    log.info("buildkite.connect.succeeded", { organizationId: request.organizationId, buildkiteOrg: chosen.slug });
    return { kind: "connected", organization: chosen, warnings: assessment.warnings };
  } catch (error) {
    if (!(error instanceof ConnectStop)) throw error;
    const failure = error.failure;
    log.warn("buildkite.connect.failed", { organizationId: request.organizationId, code: failure.code });
    await audit("failure", failure.code, {
      tokenUuid: tokenInfo?.uuid,
      ...(failure.code === "missing_scopes" ? { missingScopes: failure.missing } : {}),
      ...(failure.code === "secret_store_failed" ? { reason: failure.reason } : {}),
      ...(failure.code === "buildkite_unreachable" ? { reason: failure.reason } : {}),
    }).catch((auditError: unknown) =>
      log.error("audit.write_failed", { organizationId: request.organizationId, code: failure.code }, auditError),
    );
    return { kind: "failed", failure };
  }
}

/** Runs a Buildkite call, turning its named errors into the failure the admin will read. */
async function call<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof BuildkiteError)) throw error;
    throw new ConnectStop(buildkiteFailure(error));
  }
}

async function store<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof SecretStoreError)) throw error;
    throw new ConnectStop({ code: "secret_store_failed", reason: error.code });
  }
}

export function buildkiteFailure(error: BuildkiteError): ConnectFailure {
  switch (error.code) {
    case "unauthorized":
      return { code: "token_rejected" };
    case "forbidden":
      return { code: "token_forbidden", scope: error.missingScope };
    case "rate_limited":
      return { code: "rate_limited", retryAfterSeconds: error.retryAfterSeconds ?? 60 };
    case "timeout":
      return { code: "buildkite_unreachable", reason: "timeout" };
    case "unavailable":
      return { code: "buildkite_unreachable", reason: "unavailable" };
    case "unreachable":
      return { code: "buildkite_unreachable", reason: "unreachable" };
    case "unexpected_response":
      return { code: "buildkite_unexpected_response" };
  }
}

async function undoSecretWrite(secrets: SecretStore, organizationId: string, written: SecretRef, previous: SecretRef | null) {
  try {
    await secrets.rollback(organizationId, written, previous);
  } catch (error) {
    // The record was not changed, so it still points at the previous version, which stays readable by its id.
    log.error("buildkite.connect.rollback_failed", { organizationId, hadPrevious: previous !== null }, error);
  }
}
