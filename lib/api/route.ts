import "server-only";

import type { z } from "zod";
import type { AuditAction } from "@/lib/audit/events";
import { getDb } from "@/lib/db/client";
import { isDatabaseUnavailable } from "@/lib/db/errors";
import { log } from "@/lib/log";
import { finishIdempotent, IDEMPOTENCY_HEADER, isValidIdempotencyKey, requestHash, startIdempotent } from "./idempotency";
import { authenticate, type Principal } from "./principal";
import { API_PROBLEMS, failureProblem, type Problem, type ProblemOutcome } from "./problem";
import { getApiRateLimiter } from "./rate-limit";
import { MAX_BODY_BYTES, ORGANIZATION_ID_PATTERN as UUID } from "./schemas";

/**
 * Every organisation endpoint of the API goes through here, in this order: the organisation in the path, who is
 * calling (API key or admin session), the rate limits, the body (JSON only, at most MAX_BODY_BYTES, validated with
 * the same zod schema the OpenAPI document is made from), the query, the Idempotency-Key, then the handler. Every
 * answer is JSON or problem+json and carries `Cache-Control: no-store`. A thrown error is a bug: it is logged by name
 * and answered with a generic 500 that says nothing internal.
 */

export type ApiSuccess = { ok: true; status: number; body: unknown };
export type ApiOutcome = ApiSuccess | ProblemOutcome;

type RouteContext = { params: Promise<{ organizationId: string }> };

export type RouteSpec<Body, Query> = {
  /** For logs, and for auditing a member's refused attempt. */
  action: AuditAction | null;
  body?: z.ZodType<Body>;
  query?: z.ZodType<Query, unknown>;
  idempotent?: boolean;
  handle(input: { organizationId: string; principal: Principal; body: Body; query: Query }): Promise<ApiOutcome>;
};


export function organizationRoute<Body = undefined, Query = undefined>(spec: RouteSpec<Body, Query>) {
  return async function handleRequest(request: Request, context: RouteContext): Promise<Response> {
    const started = Date.now();
    const url = new URL(request.url);
    const { organizationId } = await context.params;
    // The path is the caller's text (a token pasted in the wrong place lands here): only a real id reaches the log.
    const logged = { method: request.method, action: spec.action ?? undefined, organizationId: UUID.test(organizationId) ? organizationId : "(not an id)" };
    const outcome = await run(request, url, organizationId).catch((error: unknown): ApiOutcome => {
      // A database that is down or restarting is no bug: say so (503 database_failed), as the use cases do.
      if (isDatabaseUnavailable(error)) {
        log.error("api.database_unavailable", logged, error);
        return failureProblem({ code: "database_failed" });
      }
      log.error("api.unexpected", logged, error);
      return { ok: false, problem: API_PROBLEMS.internalError() };
    });
    const response = respond(outcome);
    log.info("api.request", { ...logged, status: response.status, ms: Date.now() - started });
    return response;
  };

  async function run(request: Request, url: URL, organizationId: string): Promise<ApiOutcome & { replayed?: boolean }> {
    if (!UUID.test(organizationId)) return { ok: false, problem: API_PROBLEMS.notFound() };
    const identified = await authenticate(request, organizationId, spec.action);
    if (!identified.ok) return identified;
    const { principal } = identified;

    const limit = await getApiRateLimiter().consume(principal.id, organizationId);
    if (!limit.ok) {
      return { ok: false, problem: API_PROBLEMS.rateLimited(limit.retryAfterSeconds), headers: { "retry-after": String(limit.retryAfterSeconds) } };
    }

    let bodyText = "";
    let body = undefined as Body;
    if (spec.body) {
      const read = await readJsonBody(request, spec.body);
      if (!read.ok) return read;
      bodyText = read.text;
      body = read.value;
    }
    let query = undefined as Query;
    if (spec.query) {
      const parsed = spec.query.safeParse(Object.fromEntries(url.searchParams));
      if (!parsed.success) return { ok: false, problem: API_PROBLEMS.validationFailed(issues(parsed.error)) };
      query = parsed.data;
    }

    const idempotencyKey = spec.idempotent ? request.headers.get(IDEMPOTENCY_HEADER) : null;
    if (idempotencyKey === null) return spec.handle({ organizationId, principal, body, query });
    if (!isValidIdempotencyKey(idempotencyKey)) return { ok: false, problem: API_PROBLEMS.invalidIdempotencyKey() };
    const db = getDb();
    const start = await startIdempotent(db, {
      organizationId,
      principal: principal.id,
      key: idempotencyKey,
      requestHash: requestHash(request.method, `${url.pathname}${url.search}`, bodyText),
    });
    switch (start.kind) {
      case "replay":
        return start.status < 400
          ? { ok: true, status: start.status, body: start.body, replayed: true }
          : { ok: false, problem: start.body as Problem, replayed: true };
      case "reused":
        return { ok: false, problem: API_PROBLEMS.idempotencyKeyReused() };
      case "in_progress":
        return { ok: false, problem: API_PROBLEMS.idempotencyKeyInProgress(), headers: { "retry-after": "1" } };
      case "run":
        break;
    }
    let outcome: ApiOutcome;
    try {
      outcome = await spec.handle({ organizationId, principal, body, query });
    } catch (error) {
      await finishIdempotent(db, start.id, { status: 500, body: null }).catch(() => undefined);
      throw error;
    }
    await finishIdempotent(db, start.id, outcome.ok ? { status: outcome.status, body: outcome.body } : { status: outcome.problem.status, body: outcome.problem });
    return outcome;
  }
}

/** JSON only, bounded, parsed and validated: 415, 413, 400 otherwise, each saying what to send. */
async function readJsonBody<Body>(
  request: Request,
  schema: z.ZodType<Body>,
): Promise<{ ok: true; text: string; value: Body } | ProblemOutcome> {
  const type = request.headers.get("content-type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type)) return { ok: false, problem: API_PROBLEMS.unsupportedMediaType() };
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) return { ok: false, problem: API_PROBLEMS.payloadTooLarge(MAX_BODY_BYTES) };
  const text = await readAtMost(request, MAX_BODY_BYTES);
  if (text === null) return { ok: false, problem: API_PROBLEMS.payloadTooLarge(MAX_BODY_BYTES) };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, problem: API_PROBLEMS.malformedJson() };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) return { ok: false, problem: API_PROBLEMS.validationFailed(issues(parsed.error)) };
  return { ok: true, text, value: parsed.data };
}

/** The body as text, or null once it passes `limit` bytes (a lying or absent Content-Length is not trusted). */
async function readAtMost(request: Request, limit: number): Promise<string | null> {
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Field paths and zod's messages: never a value, nor an unknown field's name (a pasted token could be either). */
function issues(error: z.ZodError): Array<{ path: string; message: string }> {
  return error.issues.slice(0, 20).map((issue) => ({
    path: issue.path.map(String).join("."),
    message: issue.code === "unrecognized_keys" ? "has fields this endpoint does not accept" : issue.message,
  }));
}

/**
 * The API's answer for a method a path does not have (405 with Allow) or, with `allowed` null, a path it does not
 * have (404): problem+json and no-store like every other answer, where Next would send an empty 405 or an HTML page.
 */
export function unsupported(allowed: readonly string[] | null) {
  return async function answerUnsupported(): Promise<Response> {
    return respond(
      allowed
        ? { ok: false, problem: API_PROBLEMS.methodNotAllowed(allowed), headers: { allow: allowed.join(", ") } }
        : { ok: false, problem: API_PROBLEMS.noSuchEndpoint() },
    );
  };
}

function respond(outcome: ApiOutcome & { replayed?: boolean }): Response {
  const headers = new Headers({ "cache-control": "no-store" });
  if (outcome.replayed) headers.set("idempotent-replayed", "true");
  if (outcome.ok) {
    headers.set("content-type", "application/json");
    return new Response(JSON.stringify(outcome.body), { status: outcome.status, headers });
  }
  for (const [name, value] of Object.entries(outcome.headers ?? {})) headers.set(name, value);
  headers.set("content-type", "application/problem+json");
  return new Response(JSON.stringify(outcome.problem), { status: outcome.problem.status, headers });
}
