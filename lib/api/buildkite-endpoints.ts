import "server-only";

import { isAuditAction } from "@/lib/audit/events";
import { listAuditEvents } from "@/lib/audit/read";
import { parseBuildkiteToken } from "@/lib/buildkite/token-input";
import { getDb } from "@/lib/db/client";
import { connectBuildkite } from "@/lib/integrations/buildkite/connect";
import { defaultDependencies } from "@/lib/integrations/buildkite/dependencies";
import { runDiagnostics } from "@/lib/integrations/buildkite/diagnostics";
import { disconnectBuildkite } from "@/lib/integrations/buildkite/disconnect";
import { getBuildkiteCard } from "@/lib/integrations/buildkite/presentation/card";
import { rotateState, verifyState } from "@/lib/integrations/buildkite/presentation/form-state";
import { findConnectionForChange } from "@/lib/integrations/buildkite/repository";
import { reverifyConnection } from "@/lib/integrations/buildkite/reverify";
import { rotateBuildkiteToken } from "@/lib/integrations/buildkite/rotate";
import { API_PROBLEMS, failureProblem } from "./problem";
import { organizationRoute, type ApiOutcome } from "./route";
import type { z } from "zod";
import { AuditEventsQuery, ConnectRequest, DisconnectQuery } from "./schemas";
import { connectionBody, disconnectRevokeBody, rotationRevokeBody } from "./views";

/**
 * The API's handlers: each one parses nothing itself (organizationRoute did), calls the same use case the page
 * calls, with the caller as the actor, and shapes the result with the page's own words.
 */

const connection = async (organizationId: string) => connectionBody(await getBuildkiteCard(organizationId));

export const getConnection = organizationRoute({
  action: null,
  async handle({ organizationId }): Promise<ApiOutcome> {
    return { ok: true, status: 200, body: await connection(organizationId) };
  },
});

/** PUT: connect, or rotate when a connection exists (the same token-checking, the same one-change-at-a-time). */
export const putConnection = organizationRoute<z.infer<typeof ConnectRequest>, undefined>({
  action: "buildkite.connect",
  body: ConnectRequest,
  idempotent: true,
  async handle({ organizationId, principal, body }): Promise<ApiOutcome> {
    const token = parseBuildkiteToken(body.token);
    if (!token.ok) return { ok: false, problem: API_PROBLEMS.invalidToken(token.message) };
    const deps = defaultDependencies();
    const current = await findConnectionForChange(deps.db, organizationId);

    if (!current) {
      const result = await connectBuildkite(
        { organizationId, actor: principal.actor, token: token.token, buildkiteOrgSlug: body.buildkiteOrganization },
        deps,
      );
      if (!result.ok) return failureProblem(result.failure);
      return {
        ok: true,
        status: 201,
        body: { result: "connected", connection: await connection(organizationId), notices: [], revokePrevious: { status: "not_requested" } },
      };
    }

    if (body.buildkiteOrganization && body.buildkiteOrganization !== current.buildkiteOrgSlug) {
      return failureProblem({ code: "organization_mismatch", connected: { slug: current.buildkiteOrgSlug, name: current.buildkiteOrgName } });
    }
    const result = await rotateBuildkiteToken(
      { organizationId, actor: principal.actor, token: token.token, revokePrevious: body.revokePrevious ?? false },
      deps,
    );
    if (!result.ok) return failureProblem(result.failure);
    const state = rotateState(result);
    return {
      ok: true,
      status: 200,
      body: {
        result: "rotated",
        connection: await connection(organizationId),
        notices: state.status === "rotated" ? state.notices.map((notice) => notice.text) : [],
        revokePrevious: rotationRevokeBody(result.revoke, result.previous.tokenLastFour),
      },
    };
  },
});

export const deleteConnection = organizationRoute<undefined, z.infer<typeof DisconnectQuery>>({
  action: "buildkite.disconnect",
  query: DisconnectQuery,
  idempotent: true,
  async handle({ organizationId, principal, query }): Promise<ApiOutcome> {
    const result = await disconnectBuildkite(
      { organizationId, actor: principal.actor, revokeAtBuildkite: query.revokeAtBuildkite, evenIfRevokeFails: query.force },
      defaultDependencies(),
    );
    if (!result.ok) return failureProblem(result.failure);
    return {
      ok: true,
      status: 200,
      body: { result: "disconnected", revoke: disconnectRevokeBody(result.revoke), secretDeleted: result.secretDeleted },
    };
  },
});

export const verifyConnection = organizationRoute({
  action: "buildkite.verify",
  async handle({ organizationId, principal }): Promise<ApiOutcome> {
    const result = await reverifyConnection({ organizationId, actor: principal.actor }, defaultDependencies());
    if (!result.ok) return failureProblem(result.failure);
    const words = verifyState(result);
    return {
      ok: true,
      status: 200,
      body: {
        outcome: result.outcome,
        statusChanged: result.statusChanged,
        title: words.status === "checked" ? words.title : "",
        message: words.status === "checked" ? words.message : "",
        connection: await connection(organizationId),
      },
    };
  },
});

export const diagnoseConnection = organizationRoute({
  action: "buildkite.diagnostics",
  async handle({ organizationId, principal }): Promise<ApiOutcome> {
    const result = await runDiagnostics({ organizationId, actor: principal.actor }, defaultDependencies());
    if (!result.ok) return failureProblem(result.failure);
    return { ok: true, status: 200, body: result.report };
  },
});

export const listAuditEventsRoute = organizationRoute<undefined, z.infer<typeof AuditEventsQuery>>({
  action: null,
  query: AuditEventsQuery,
  async handle({ organizationId, query }): Promise<ApiOutcome> {
    const page = await listAuditEvents(getDb(), organizationId, {
      action: isAuditAction(query.action) ? query.action : undefined,
      cursor: query.cursor,
      limit: query.limit,
    });
    return { ok: true, status: 200, body: page };
  },
});
