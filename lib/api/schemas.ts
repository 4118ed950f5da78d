import "zod-openapi";
import { z } from "zod";
import { AUDIT_ACTION_NAMES } from "@/lib/audit/events";
import { BUILDKITE_SLUG_PATTERN } from "@/lib/buildkite/slug";
import { MAX_TOKEN_LENGTH } from "@/lib/buildkite/token-input";

/**
 * The API's requests and responses, as zod schemas: the handlers validate with them and the OpenAPI document
 * (openapi.ts) is generated from them, so the two cannot drift apart. `.meta({ id })` makes a schema a named
 * component of the document.
 */

/** The largest request body any endpoint reads (a token is at most 256 characters). */
export const MAX_BODY_BYTES = 16 * 1024;

const timestamp = z.iso.datetime().meta({ description: "UTC, ISO 8601", example: "2026-11-22T18:28:55.000Z" });

/** The route checks the path with the same pattern the document states (any 8-4-4-4-12 hex id). */
export const ORGANIZATION_ID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
export const organizationIdParam = z.string().regex(ORGANIZATION_ID_PATTERN).meta({ description: "The Gitar organisation's id (a UUID)" });

export const ConnectRequest = z
  .strictObject({
    token: z
      .string()
      .min(1)
      .max(MAX_TOKEN_LENGTH)
      .meta({ description: "A Buildkite API access token (bkua_…) with the nine read scopes. Sent once; never returned.", example: "bkua_…" }),
    buildkiteOrganization: z
      .string()
      .regex(BUILDKITE_SLUG_PATTERN)
      .optional()
      .meta({ description: "The Buildkite organisation's slug, when the token reaches several (connect only)." }),
    revokePrevious: z
      .boolean()
      .optional()
      .meta({ description: "Rotate only: revoke the replaced token at Buildkite once the new one is in use. Default false." }),
  })
  .meta({ id: "ConnectRequest", description: "Connect Buildkite, or rotate the token when it is already connected." });

const booleanQuery = (fallback: boolean) =>
  z
    .enum(["true", "false"])
    .optional()
    .transform((value) => (value === undefined ? fallback : value === "true"));

export const DisconnectQuery = z.strictObject({
  revokeAtBuildkite: booleanQuery(true).meta({ description: "Revoke the token at Buildkite first. Default true." }),
  force: booleanQuery(false).meta({ description: "Disconnect anyway if revoking fails (the token then stays valid at Buildkite)." }),
});

export const AuditEventsQuery = z.strictObject({
  action: z.enum(AUDIT_ACTION_NAMES as [string, ...string[]]).optional().meta({ description: "Only this action." }),
  cursor: z.string().max(200).optional().meta({ description: "From a previous page's nextCursor." }),
  limit: z.coerce.number().int().min(1).max(200).optional().meta({ description: "Events per page, 1-200. Default 50." }),
});

const ScopeRow = z.object({ scope: z.string(), purpose: z.string(), granted: z.boolean() });

export const Connection = z
  .discriminatedUnion("status", [
    z.object({ status: z.literal("not_connected") }),
    z.object({
      status: z.enum(["connected", "needs_attention"]),
      buildkiteOrganization: z.object({ slug: z.string(), name: z.string(), url: z.string() }),
      token: z.object({
        uuid: z.string().meta({ description: "Buildkite's id for the token" }),
        lastFour: z.string().meta({ description: "The token's last four characters" }),
        description: z.string().nullable(),
        owner: z.object({ name: z.string().nullable(), email: z.string().nullable() }),
        createdAt: timestamp.nullable(),
        expiresAt: timestamp.nullable(),
      }),
      scopes: z.array(ScopeRow).meta({ description: "The nine required scopes, each granted or not" }),
      extraScopes: z.array(z.string()),
      connectedBy: z.string().nullable(),
      connectedAt: timestamp,
      rotatedBy: z.string().nullable(),
      rotatedAt: timestamp.nullable(),
      lastVerifiedAt: timestamp,
      nextCheckAt: timestamp,
      attention: z.object({ problem: z.string(), fix: z.string() }).nullable().meta({ description: "Why it needs attention, and what to do" }),
      lastCheckNotice: z.string().nullable().meta({ description: "Set when the last check could not reach Buildkite" }),
      warnings: z.array(z.string()),
    }),
  ])
  .meta({ id: "Connection", description: "The Buildkite connection: the same facts the Integrations page shows. Never the token." });

const RevokeOutcome = z
  .object({
    status: z.enum(["not_requested", "revoked", "already_revoked", "failed"]),
    detail: z.string().optional().meta({ description: "When it failed: why, and where to revoke the token by hand." }),
  })
  .meta({ id: "RevokeOutcome" });

export const ConnectResponse = z
  .object({
    result: z.enum(["connected", "rotated"]),
    connection: Connection,
    notices: z.array(z.string()).meta({ description: "What this change has to say: a new owner, the old token's revocation." }),
    revokePrevious: RevokeOutcome,
  })
  .meta({ id: "ConnectResponse" });

export const DisconnectResponse = z
  .object({ result: z.literal("disconnected"), revoke: RevokeOutcome, secretDeleted: z.boolean() })
  .meta({ id: "DisconnectResponse" });

export const VerifyResponse = z
  .object({
    outcome: z.enum(["passed", "needs_attention", "unreachable"]),
    statusChanged: z.boolean(),
    title: z.string(),
    message: z.string(),
    connection: Connection,
  })
  .meta({ id: "VerifyResponse" });

const CheckStatus = z.enum(["passed", "failed", "warning", "not_checked"]);
const RateLimitWindow = z.object({ limit: z.number().nullable(), remaining: z.number().nullable(), resetSeconds: z.number().nullable() });

export const DiagnosticsResponse = z
  .object({
    ranAt: timestamp,
    organization: z.object({ slug: z.string(), name: z.string() }),
    scopes: z.array(z.object({ scope: z.string(), status: CheckStatus, detail: z.string() })),
    data: z.array(
      z.object({
        id: z.enum(["organization", "pipelines", "latest_build", "pipeline_repositories"]),
        status: CheckStatus,
        detail: z.string(),
        fix: z.string().optional(),
      }),
    ),
    rateLimit: RateLimitWindow.extend({ scope: z.string().nullable(), user: RateLimitWindow.nullable() })
      .nullable()
      .meta({ description: "Buildkite's rate-limit headers, from the last answer" }),
  })
  .meta({ id: "DiagnosticsResponse" });

export const AuditEvent = z
  .object({
    id: z.uuid(),
    at: timestamp,
    action: z.string(),
    actionLabel: z.string(),
    outcome: z.enum(["success", "failure", "refused"]),
    code: z.string().nullable(),
    actor: z.object({ type: z.enum(["person", "scheduler", "api_key"]), name: z.string() }),
    detail: z.record(z.string(), z.unknown()).meta({ description: "Facts about the event: token UUID and last four, never a token" }),
  })
  .meta({ id: "AuditEvent" });

export const AuditEventsResponse = z
  .object({ events: z.array(AuditEvent), nextCursor: z.string().nullable() })
  .meta({ id: "AuditEventsResponse" });

export const ProblemSchema = z
  .looseObject({
    type: z.string().meta({ description: "A stable identifier of the outcome" }),
    title: z.string(),
    status: z.number().int().min(400).max(599),
    detail: z.string().meta({ description: "What happened and what to do" }),
    code: z.string().meta({ description: "A stable code per outcome, listed with each response" }),
  })
  .meta({ id: "Problem", description: "RFC 9457 problem details, with extensions such as missingScopes, organizations, retryAfterSeconds" });

export type ConnectionBody = z.infer<typeof Connection>;
