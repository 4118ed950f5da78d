import "server-only";

import { z } from "zod";
import { createDocument } from "zod-openapi";
import {
  AuditEventsQuery,
  AuditEventsResponse,
  Connection,
  ConnectRequest,
  ConnectResponse,
  DiagnosticsResponse,
  DisconnectQuery,
  DisconnectResponse,
  MAX_BODY_BYTES,
  organizationIdParam,
  ProblemSchema,
  VerifyResponse,
} from "./schemas";
import { IDEMPOTENCY_KEY_PATTERN } from "./idempotency";

/**
 * The OpenAPI 3.1 document, generated from the zod schemas the handlers validate with (schemas.ts). Served at
 * /api/v1/openapi.json and rendered for people at /settings/api-reference.
 */

const problem = (description: string) => ({ description, content: { "application/problem+json": { schema: ProblemSchema } } });

const retryAfter = z.string().meta({ description: "Seconds to wait before trying again" });
const wwwAuthenticate = z.string().meta({ description: 'How to authenticate: `Bearer realm="gitar"`' });
const idempotentReplayed = z
  .literal("true")
  .optional()
  .meta({ description: "Present when this is the stored answer to an earlier request with the same Idempotency-Key" });

/** What any organisation endpoint may answer besides its own results. */
const commonProblems = {
  "401": {
    ...problem("No credentials, or an API key that is malformed, unknown, revoked or expired (`unauthenticated`, `invalid_api_key`)"),
    headers: z.object({ "www-authenticate": wwwAuthenticate }),
  },
  "403": problem("Signed in, but not an admin of this organisation (`forbidden`)"),
  "404": problem("No such organisation, or not yours (`not_found`); for a connection endpoint, nothing connected (`not_connected`)"),
  "429": {
    ...problem(
      "Too many requests (`rate_limited`); too many pasted tokens checked for this organisation lately (`too_many_token_checks`, connect and rotate); or Buildkite is rate limiting the token (`buildkite_rate_limited`)",
    ),
    headers: z.object({ "retry-after": retryAfter }),
  },
  "500": problem("A failure nothing was changed by (`internal_error`)"),
  "503": problem("The secret store or the database failed (`secret_store_failed`, `secret_unreadable`, `database_failed`)"),
  "504": problem("Buildkite or the secret store was too slow for the change to finish within its deadline; nothing was changed (`deadline_exceeded`, with `seconds`)"),
};

const idempotencyHeader = z.object({
  "idempotency-key": z
    .string()
    .regex(IDEMPOTENCY_KEY_PATTERN)
    .optional()
    .meta({
      description:
        "Repeat a request safely: 1 to 255 visible ASCII characters, such as a UUID. The same key and body replay the first result " +
        "(kept 24 hours; a `busy`, rate-limited or server-side failure is not kept, so its retry runs); the same key with another body is refused (422).",
    }),
});

/** The Idempotency-Key outcomes, for PUT and DELETE. */
const idempotencyProblems = {
  "409": "the first request with this Idempotency-Key is still running (`idempotency_key_in_progress`)",
  "422": "this Idempotency-Key was used for another request (`idempotency_key_reused`)",
  "400": "the Idempotency-Key is not valid (`invalid_idempotency_key`)",
};

/** Every answer of an idempotent operation may be a replay. */
function replayable<T extends Record<string, { headers?: z.ZodObject } & Record<string, unknown>>>(responses: T): T {
  return Object.fromEntries(
    Object.entries(responses).map(([status, response]) => [
      status,
      { ...response, headers: (response.headers ?? z.object({})).extend({ "idempotent-replayed": idempotentReplayed }) },
    ]),
  ) as unknown as T;
}

const path = z.object({ organizationId: organizationIdParam });
const busy = "Another change to this connection is in progress (`busy`)";
const connectProblems = {
  "409": {
    ...problem(
      `${busy}, or a choice is needed (\`organization_choice_required\`, with \`organizations\`), or the token is already connected (\`token_already_connected\`), or ${idempotencyProblems["409"]}`,
    ),
    headers: z.object({ "retry-after": retryAfter.optional() }),
  },
  "422": problem(
    `Buildkite or our checks turned the token down: \`invalid_token\`, \`token_rejected\`, \`token_forbidden\`, \`token_expired\`, \`missing_scopes\` (with \`missingScopes\`), \`no_organizations\`, \`organization_not_found\`, \`organization_mismatch\`; or ${idempotencyProblems["422"]}`,
  ),
  "502": problem("Buildkite could not be reached or answered unexpectedly (`buildkite_unreachable`, `buildkite_unexpected_response`)"),
};
const disconnectProblems = {
  "409": {
    ...problem(`${busy}, or ${idempotencyProblems["409"]}`),
    headers: z.object({ "retry-after": retryAfter }),
  },
  "422": problem(`The request was refused: ${idempotencyProblems["422"]}`),
  "502": problem("Revoking the token at Buildkite failed (`revoke_failed`, with `cause`): nothing was changed; repeat with `force=true` to disconnect anyway"),
};

let cached: ReturnType<typeof createDocument> | undefined;

export function openApiDocument() {
  cached ??= createDocument({
    openapi: "3.1.0",
    info: {
      title: "Gitar Buildkite integration API",
      version: "1.0.0",
      description:
        "Connect, rotate, disconnect, verify and diagnose an organisation's Buildkite connection, and read its audit log: " +
        "everything the Integrations page does, through the same checks and with the same messages. Authenticate with an " +
        "organisation API key (`Authorization: Bearer gitar_ak_…`, created under Settings → API keys) or an admin's browser session. " +
        "Errors are RFC 9457 problem details with a stable `code`. Every response is `Cache-Control: no-store`.",
    },
    servers: [{ url: "/" }],
    security: [{ apiKey: [] }, { session: [] }],
    components: {
      securitySchemes: {
        apiKey: { type: "http", scheme: "bearer", description: "An organisation API key, gitar_ak_…" },
        session: {
          type: "apiKey",
          in: "cookie",
          name: "authjs.session-token",
          description: "An admin's browser session (over https the cookie is `__Secure-authjs.session-token`). For scripts, use an API key.",
        },
      },
    },
    paths: {
      "/api/v1/organizations/{organizationId}/integrations/buildkite": {
        get: {
          operationId: "getBuildkiteConnection",
          summary: "The Buildkite connection's status and details",
          requestParams: { path },
          responses: { "200": { description: "The connection", content: { "application/json": { schema: Connection } } }, ...commonProblems },
        },
        put: {
          operationId: "putBuildkiteConnection",
          summary: "Connect Buildkite, or rotate the token when connected",
          description: `The body may be at most ${MAX_BODY_BYTES} bytes (413), must be JSON (415) and valid (400).`,
          requestParams: { path, header: idempotencyHeader },
          requestBody: { required: true, content: { "application/json": { schema: ConnectRequest } } },
          responses: replayable({
            "200": { description: "Rotated: the new token is in use", content: { "application/json": { schema: ConnectResponse } } },
            "201": { description: "Connected", content: { "application/json": { schema: ConnectResponse } } },
            "400": problem(`The body is not valid JSON (\`malformed_json\`) or not valid (\`validation_failed\`, with \`errors\`), or ${idempotencyProblems["400"]}`),
            "413": problem("The body is too large (`payload_too_large`)"),
            "415": problem("The body is not JSON (`unsupported_media_type`)"),
            ...commonProblems,
            ...connectProblems,
          }),
        },
        delete: {
          operationId: "deleteBuildkiteConnection",
          summary: "Disconnect Buildkite, revoking the token at Buildkite first (unless told not to)",
          requestParams: { path, query: DisconnectQuery, header: idempotencyHeader },
          responses: replayable({
            "200": { description: "Disconnected", content: { "application/json": { schema: DisconnectResponse } } },
            "400": problem(`A query parameter is not valid (\`validation_failed\`), or ${idempotencyProblems["400"]}`),
            ...commonProblems,
            ...disconnectProblems,
          }),
        },
      },
      "/api/v1/organizations/{organizationId}/integrations/buildkite/verify": {
        post: {
          operationId: "verifyBuildkiteConnection",
          summary: "Check the stored token with Buildkite now",
          requestParams: { path },
          responses: {
            "200": { description: "Checked", content: { "application/json": { schema: VerifyResponse } } },
            ...commonProblems,
            "409": { ...problem(busy), headers: z.object({ "retry-after": retryAfter }) },
          },
        },
      },
      "/api/v1/organizations/{organizationId}/integrations/buildkite/diagnostics": {
        post: {
          operationId: "diagnoseBuildkiteConnection",
          summary: "One call per required scope, and the build-data checks (about ten calls to Buildkite)",
          requestParams: { path },
          responses: {
            "200": { description: "The checklist", content: { "application/json": { schema: DiagnosticsResponse } } },
            ...commonProblems,
            "422": problem("Buildkite rejected the stored token (`token_rejected`)"),
          },
        },
      },
      "/api/v1/organizations/{organizationId}/audit-events": {
        get: {
          operationId: "listAuditEvents",
          summary: "The audit log, newest first, a page at a time",
          requestParams: { path, query: AuditEventsQuery },
          responses: {
            "200": { description: "A page of events", content: { "application/json": { schema: AuditEventsResponse } } },
            "400": problem("A query parameter is not valid (`validation_failed`)"),
            ...commonProblems,
          },
        },
      },
    },
  });
  return cached;
}
