import { newTokenUrl } from "@/lib/buildkite/scopes";
import { newTokenFixes, type ConnectionFailure, type ConnectionFailureCode } from "@/lib/integrations/buildkite/failures";
import { describeFailure } from "@/lib/integrations/buildkite/presentation/messages";

/**
 * Errors as RFC 9457 problem details (`application/problem+json`): a stable `type` and `code` per outcome, a
 * `title`, and a `detail` that says what to do — the page's own words for the same outcome. Extensions carry what
 * a script needs to act (the missing scopes, the organisations to choose from, when to retry). Nothing internal,
 * and never the token.
 */

export type Problem = {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  [extension: string]: unknown;
};

export type ProblemOutcome = { ok: false; problem: Problem; headers?: Record<string, string> };

/** A stable identifier per outcome; relative, so it resolves against wherever the API is served. */
export const problemType = (code: string) => `/api/v1/problems/${code}`;

export function problem(status: number, code: string, title: string, detail: string, extensions: Record<string, unknown> = {}): Problem {
  return { type: problemType(code), title, status, detail, code, ...extensions };
}

/** The API's own outcomes, beside those of the use cases. */
export const API_PROBLEMS = {
  unauthenticated: () =>
    problem(401, "unauthenticated", "Authentication required", "Send an organisation API key as `Authorization: Bearer <key>` (create one under Settings → API keys), or sign in."),
  invalidApiKey: (reason: "malformed" | "unknown" | "revoked" | "expired") =>
    problem(401, "invalid_api_key", "This API key is not valid", {
      malformed: "That is not an API key of this app: keys start with gitar_ak_. Copy the key again in full.",
      unknown: "No such API key. Check you copied the whole key, or create a new one under Settings → API keys.",
      revoked: "This API key was revoked. Create a new one under Settings → API keys.",
      expired: "This API key has expired. Create a new one under Settings → API keys.",
    }[reason]),
  forbidden: (organizationName: string) =>
    problem(403, "forbidden", "Admins only", `Only admins of ${organizationName} can use the API. Ask an admin, or use an organisation API key.`),
  notFound: () => problem(404, "not_found", "Not found", "There is no such organisation, or it is not yours to see."),
  noSuchEndpoint: () =>
    problem(404, "no_such_endpoint", "No such endpoint", "The API has no endpoint at this path. Its endpoints are described at /api/v1/openapi.json."),
  methodNotAllowed: (allowed: readonly string[]) =>
    problem(405, "method_not_allowed", "Method not allowed", `This endpoint answers ${allowed.join(", ")} only.`, { allowed: [...allowed] }),
  rateLimited: (retryAfterSeconds: number) =>
    problem(429, "rate_limited", "Too many requests", `Slow down: try again in ${retryAfterSeconds} seconds.`, { retryAfterSeconds }),
  unsupportedMediaType: () =>
    problem(415, "unsupported_media_type", "Send JSON", "The request body must be JSON, sent with `Content-Type: application/json`."),
  payloadTooLarge: (limit: number) =>
    problem(413, "payload_too_large", "Request body too large", `The request body may be at most ${limit} bytes.`),
  malformedJson: () => problem(400, "malformed_json", "The body is not valid JSON", "Send a JSON object, such as {\"token\": \"bkua_…\"}."),
  validationFailed: (errors: Array<{ path: string; message: string }>) =>
    problem(400, "validation_failed", "The request is not valid", errors.map((error) => `${error.path || "body"}: ${error.message}`).join("; "), { errors }),
  invalidToken: (message: string) => problem(422, "invalid_token", "That is not a Buildkite API token", message),
  invalidIdempotencyKey: () =>
    problem(400, "invalid_idempotency_key", "The Idempotency-Key is not valid", "Use 1 to 255 visible ASCII characters, such as a UUID."),
  idempotencyKeyReused: () =>
    problem(422, "idempotency_key_reused", "This Idempotency-Key was used for another request", "An Idempotency-Key may be reused only to repeat the very same request. Use a new key for a new request."),
  idempotencyKeyInProgress: () =>
    problem(409, "idempotency_key_in_progress", "The first request with this Idempotency-Key is still running", "Wait for it to finish, then repeat the request to get its result.", { retryAfterSeconds: 1 }),
  internalError: () =>
    problem(500, "internal_error", "Something went wrong on our side", "Nothing was changed. Try again in a minute; if it keeps failing, contact support."),
} as const;

const STATUS: Record<ConnectionFailureCode, number> = {
  token_rejected: 422,
  token_forbidden: 422,
  token_expired: 422,
  missing_scopes: 422,
  no_organizations: 422,
  organization_not_found: 422,
  organization_mismatch: 422,
  organization_choice_required: 409,
  token_already_connected: 409,
  not_connected: 404,
  busy: 409,
  // Buildkite's own rate limit on the token: the caller can do nothing but wait, which Retry-After says.
  rate_limited: 429,
  buildkite_unreachable: 502,
  buildkite_unexpected_response: 502,
  revoke_failed: 502,
  secret_store_failed: 503,
  secret_unreadable: 503,
  database_failed: 503,
  // Our own deadline, not an upstream's answer: the gateway that gave up on something slow.
  deadline_exceeded: 504,
  too_many_token_checks: 429,
};

/** API codes differ from the page's only where two outcomes would otherwise share one: ours vs Buildkite's 429. */
const CODE: Partial<Record<ConnectionFailureCode, string>> = { rate_limited: "buildkite_rate_limited" };

export function failureProblem(failure: ConnectionFailure): ProblemOutcome {
  const { title, message } = describeFailure(failure);
  const code = CODE[failure.code] ?? failure.code;
  const extensions: Record<string, unknown> = {};
  const headers: Record<string, string> = {};
  switch (failure.code) {
    case "missing_scopes":
      extensions.missingScopes = failure.missing;
      break;
    case "organization_choice_required":
      extensions.organizations = failure.organizations;
      break;
    case "organization_mismatch":
      extensions.connectedOrganization = failure.connected;
      break;
    case "rate_limited":
    case "too_many_token_checks":
      extensions.retryAfterSeconds = failure.retryAfterSeconds;
      headers["retry-after"] = String(failure.retryAfterSeconds);
      break;
    case "busy":
      extensions.retryAfterSeconds = 1;
      headers["retry-after"] = "1";
      break;
    case "token_expired":
      extensions.expiredAt = failure.expiredAt.toISOString();
      break;
    case "secret_store_failed":
    case "secret_unreadable":
    case "buildkite_unreachable":
      extensions.reason = failure.reason;
      break;
    case "revoke_failed":
      extensions.cause = failure.cause.code;
      break;
    case "deadline_exceeded":
      extensions.seconds = failure.seconds;
      break;
    default:
      break;
  }
  // As the page links it: Buildkite's new-token page with the nine scopes ticked.
  if (newTokenFixes(failure)) extensions.newTokenUrl = newTokenUrl();
  return { ok: false, problem: problem(STATUS[failure.code], code, title, message, extensions), headers };
}
