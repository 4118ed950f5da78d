import "server-only";

import { Agent, interceptors, type Dispatcher, type RetryHandler } from "undici";
import { getConfig } from "@/lib/config";
import { BuildkiteError, errorForStatus } from "./errors";
import {
  accessTokenResponseSchema,
  organizationListSchema,
  type AccessTokenInfo,
  type BuildkiteOrganization,
} from "./schemas";

/**
 * The one way the app talks to Buildkite's REST API. Every failure comes out as a BuildkiteError; the token is
 * only ever placed in the Authorization header, never in a message.
 */

export type BuildkiteClientOptions = {
  /** e.g. https://api.buildkite.com (no trailing slash needed). */
  baseUrl: string;
  connectTimeoutMs: number;
  /** Budget for one HTTP call, both attempts and the backoff between them included. */
  timeoutMs: number;
};

export type BuildkiteClient = {
  getAccessToken(token: string): Promise<AccessTokenInfo>;
  listOrganizations(token: string): Promise<BuildkiteOrganization[]>;
  close(): Promise<void>;
};

const USER_AGENT = "gitar-buildkite-integration/0.1 (+https://gitar.ai)";
const PAGE_SIZE = 100;
const MAX_PAGES = 10;
const RETRY_DELAY_MS = 200;
const MAX_BODY_BYTES = 4 * 1024 * 1024;
// A reset before or during the response says nothing about the request, so a GET is safe to repeat once.
const RESET_CODES = new Set(["ECONNRESET", "UND_ERR_SOCKET", "EPIPE"]);

/**
 * undici's retry policy, narrowed to: one retry, only after a 5xx answer or a reset connection. Never 4xx
 * (including 429: Buildkite's reset window is far longer than any request budget here).
 */
const retryOnceOnResetOr5xx: RetryHandler.RetryCallback = (error, { state }, callback) => {
  const { statusCode, code } = error as { statusCode?: number; code?: string };
  const retryable =
    statusCode !== undefined ? statusCode >= 500 && statusCode <= 599 : code !== undefined && RESET_CODES.has(code);
  if (!retryable || state.counter > 1) {
    callback(error);
    return;
  }
  // Returning the timer lets undici cancel the backoff when the call's budget runs out.
  return setTimeout(() => callback(null), RETRY_DELAY_MS) as unknown as void;
};

type RawResponse = { status: number; headers: Dispatcher.ResponseData["headers"]; text: string };

export function createBuildkiteClient(options: BuildkiteClientOptions): BuildkiteClient {
  const baseUrl = new URL(options.baseUrl.replace(/\/+$/, "") + "/");
  const agent = new Agent({
    connect: { timeout: options.connectTimeoutMs },
    // Only backstops: undici's coarse timers can fire hundreds of ms early, so the per-call budget below decides.
    headersTimeout: options.timeoutMs * 2,
    bodyTimeout: options.timeoutMs * 2,
    keepAliveTimeout: 30_000,
  });
  const dispatcher = agent.compose(
    interceptors.retry({
      maxRetries: 1,
      minTimeout: RETRY_DELAY_MS,
      maxTimeout: RETRY_DELAY_MS,
      // Hand the final 5xx back as a response (not a bare error) so its status reaches the caller.
      throwOnError: false,
      retryAfter: false,
      methods: ["GET"],
      retry: retryOnceOnResetOr5xx,
    }),
  );

  async function get(token: string, url: URL): Promise<RawResponse> {
    assertSendable(token);
    const budget = new AbortController();
    const timer = setTimeout(() => budget.abort(), options.timeoutMs);
    try {
      const response = await dispatcher.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: "GET",
        headers: { authorization: `Bearer ${token}`, accept: "application/json", "user-agent": USER_AGENT },
        signal: budget.signal,
      });
      return { status: response.statusCode, headers: response.headers, text: await readBody(response.body) };
    } catch (error) {
      if (error instanceof BuildkiteError) throw error;
      throw networkError(error, budget.signal.aborted, options.timeoutMs);
    } finally {
      clearTimeout(timer);
    }
  }

  async function getJson(token: string, url: URL): Promise<{ body: unknown; headers: RawResponse["headers"] }> {
    const response = await get(token, url);
    const body = parseJson(response.text);
    if (response.status !== 200) {
      throw errorForStatus(response.status, body, headerValue(response.headers, "ratelimit-reset"));
    }
    if (body === undefined) {
      throw new BuildkiteError("unexpected_response", "Buildkite answered 200 with a body that is not JSON", {
        status: 200,
        reason: "body is not JSON",
      });
    }
    return { body, headers: response.headers };
  }

  return {
    async getAccessToken(token) {
      const { body } = await getJson(token, new URL("v2/access-token", baseUrl));
      const parsed = accessTokenResponseSchema.safeParse(body);
      if (!parsed.success) throw schemaError("access token", parsed.error.issues);
      return parsed.data;
    },

    async listOrganizations(token) {
      const organizations: BuildkiteOrganization[] = [];
      let url: URL | undefined = new URL(`v2/organizations?per_page=${PAGE_SIZE}`, baseUrl);
      // Past MAX_PAGES we stop rather than fail: a thousand organisations is already more than a person picks from.
      for (let page = 0; url && page < MAX_PAGES; page += 1) {
        const { body, headers } = await getJson(token, url);
        const parsed = organizationListSchema.safeParse(body);
        if (!parsed.success) throw schemaError("organization list", parsed.error.issues);
        organizations.push(...parsed.data);
        url = nextPage(headerValue(headers, "link"), url);
      }
      return organizations;
    },

    async close() {
      await agent.close();
    },
  };
}

function assertSendable(token: string) {
  // Only visible ASCII can go in a header; anything else would make undici throw, so refuse it ourselves first.
  if (!/^[\x21-\x7e]+$/.test(token)) {
    throw new BuildkiteError("unauthorized", "Token is not in a form Buildkite issues; it was not sent", {
      reason: "malformed token",
    });
  }
}

async function readBody(body: Dispatcher.ResponseData["body"]): Promise<string> {
  // Reading to the end (not abandoning the stream) is what returns the socket to the pool for reuse.
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      body.destroy();
      throw new BuildkiteError("unexpected_response", "Buildkite's answer was too large", { reason: "body too large" });
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function headerValue(headers: RawResponse["headers"], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
}

/** The `rel="next"` target of a Link header, only if it stays on the same origin (the token goes with it). */
export function nextPage(link: string | undefined, current: URL): URL | undefined {
  if (!link) return undefined;
  for (const match of link.matchAll(/<([^>]*)>((?:\s*;\s*[^;,]+)*)/g)) {
    const rel = /;\s*rel\s*=\s*"?([^";]+)"?/i.exec(match[2] ?? "")?.[1];
    if (!rel?.toLowerCase().split(/\s+/).includes("next")) continue;
    let target: URL;
    try {
      target = new URL(match[1] ?? "", current);
    } catch {
      throw new BuildkiteError("unexpected_response", "Buildkite's next-page link is not a URL", {
        reason: "bad pagination link",
      });
    }
    if (target.origin !== current.origin) {
      throw new BuildkiteError("unexpected_response", "Buildkite's next-page link points to another host", {
        reason: "cross-origin pagination link",
      });
    }
    return target;
  }
  return undefined;
}

function schemaError(what: string, issues: readonly { path: readonly PropertyKey[] }[]): BuildkiteError {
  // Field paths only: values from the body are not echoed into logs.
  const fields = [...new Set(issues.map((issue) => issue.path.map(String).join(".") || "(body)"))].slice(0, 5);
  return new BuildkiteError("unexpected_response", `Buildkite's ${what} did not match the documented shape (${fields.join(", ")})`, {
    status: 200,
    reason: "body does not match schema",
  });
}

const UNREACHABLE_REASONS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed",
  ECONNRESET: "connection reset",
  UND_ERR_SOCKET: "connection closed before the response",
  EPIPE: "connection closed while sending",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ENETDOWN: "network down",
  EHOSTDOWN: "host down",
  UND_ERR_REQ_RETRY: "connection reset during the response",
};

const TIMEOUT_REASONS: Record<string, string> = {
  UND_ERR_CONNECT_TIMEOUT: "connect timeout",
  UND_ERR_HEADERS_TIMEOUT: "no response headers in time",
  UND_ERR_BODY_TIMEOUT: "response body stalled",
  ETIMEDOUT: "connect timeout",
};

function networkError(error: unknown, budgetSpent: boolean, timeoutMs: number): BuildkiteError {
  if (budgetSpent) {
    return new BuildkiteError("timeout", `Buildkite did not answer within ${timeoutMs} ms`, { reason: "time budget spent" });
  }
  const code = errorCode(error);
  const timeoutReason = code ? TIMEOUT_REASONS[code] : undefined;
  if (timeoutReason) {
    return new BuildkiteError("timeout", `Buildkite did not answer in time (${timeoutReason})`, { reason: timeoutReason, cause: error });
  }
  if (code?.startsWith("ERR_TLS") || code?.includes("CERT")) {
    return new BuildkiteError("unreachable", `Could not reach Buildkite (TLS failure: ${code})`, { reason: "TLS failure", cause: error });
  }
  const reason = (code && UNREACHABLE_REASONS[code]) ?? (code ? `network error ${code}` : "network error");
  return new BuildkiteError("unreachable", `Could not reach Buildkite (${reason})`, { reason, cause: error });
}

/** The system/undici error code, looking inside the wrappers Node and undici put around it. */
function errorCode(error: unknown, depth = 0): string | undefined {
  if (error === null || typeof error !== "object" || depth > 3) return undefined;
  const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === "string") return code;
  if (Array.isArray(errors)) {
    for (const inner of errors) {
      const innerCode = errorCode(inner, depth + 1);
      if (innerCode) return innerCode;
    }
  }
  return errorCode(cause, depth + 1);
}

const SINGLETON = Symbol.for("gitar.buildkiteClient");
type WithClient = typeof globalThis & { [SINGLETON]?: BuildkiteClient };

/** The process-wide client (one connection pool), configured from the environment on first use. */
export function getBuildkiteClient(): BuildkiteClient {
  // Kept on globalThis so Next's dev-mode module reloads do not leak a pool per edit.
  const holder = globalThis as WithClient;
  if (!holder[SINGLETON]) {
    const { apiUrl, connectTimeoutMs, timeoutMs } = getConfig().buildkite;
    holder[SINGLETON] = createBuildkiteClient({ baseUrl: apiUrl, connectTimeoutMs, timeoutMs });
  }
  return holder[SINGLETON];
}
