import "server-only";

import { Agent, interceptors, type Dispatcher, type RetryHandler } from "undici";
import type { z } from "zod";
import { BuildkiteError, errorForStatus } from "./errors";
import { deadlineError, networkError, type Interruption } from "./network-errors";
import { parseRateLimit, type RateLimitInfo } from "./rate-limit";

/**
 * HTTP to Buildkite's REST API: one connection pool, one time budget per call, one retry for a GET after a 5xx or a
 * reset connection, every failure a BuildkiteError. The token is only ever placed in the Authorization header.
 */

export type BuildkiteClientOptions = {
  /** e.g. https://api.buildkite.com (no trailing slash needed). */
  baseUrl: string;
  connectTimeoutMs: number;
  /** Budget for one HTTP call, both attempts and the backoff between them included. */
  timeoutMs: number;
};

/** Per-call options, accepted as the optional last argument of every client method. */
export type CallOptions = {
  /** Aborting it ends the call with BuildkiteError "timeout" (reason "deadline reached"); the client's own budget
   *  still applies, whichever comes first. */
  signal?: AbortSignal;
  /** Receives the parsed RateLimit-* headers of each answer, success or failure (fields are null when absent). An
   *  error thrown by the callback is ignored. A 5xx that was retried is not reported; its retry's answer is. */
  onRateLimit?: (info: RateLimitInfo) => void;
};

export type RawResponse = { status: number; headers: Dispatcher.ResponseData["headers"]; text: string; rateLimit: RateLimitInfo };

export type Transport = {
  /** An API URL from path segments (each URL-encoded) and query parameters. */
  url(segments: readonly (string | number)[], query?: Record<string, string | number>): URL;
  send(method: "GET" | "DELETE", token: string, url: URL, options?: CallOptions): Promise<RawResponse>;
  /** GET, expecting 200 with a JSON body; any other answer becomes a BuildkiteError. */
  getJson(token: string, url: URL, options?: CallOptions): Promise<{ body: unknown; headers: RawResponse["headers"] }>;
  close(): Promise<void>;
};

const USER_AGENT = "gitar-buildkite-integration/0.1 (+https://gitar.ai)";
const RETRY_DELAY_MS = 200;
const MAX_BODY_BYTES = 4 * 1024 * 1024;
// A reset before or during the response says nothing about the request, so a GET is safe to repeat once.
const RESET_CODES = new Set(["ECONNRESET", "UND_ERR_SOCKET", "EPIPE"]);

/**
 * undici's retry policy, narrowed to: one retry of a GET, only after a 5xx answer or a reset connection. Never 4xx
 * (including 429: Buildkite's reset window is far longer than any request budget here). A custom policy replaces
 * undici's `methods` check, so the method is checked here too.
 */
const retryOnceOnResetOr5xx: RetryHandler.RetryCallback = (error, { state, opts }, callback) => {
  const { statusCode, code } = error as { statusCode?: number; code?: string };
  const retryable =
    statusCode !== undefined ? statusCode >= 500 && statusCode <= 599 : code !== undefined && RESET_CODES.has(code);
  if (!retryable || opts.method !== "GET" || state.counter > 1) {
    callback(error);
    return;
  }
  // Returning the timer lets undici cancel the backoff when the call's budget runs out.
  return setTimeout(() => callback(null), RETRY_DELAY_MS) as unknown as void;
};

export function createTransport(options: BuildkiteClientOptions): Transport {
  const baseUrl = new URL(options.baseUrl.replace(/\/+$/, "") + "/");
  const agent = new Agent({
    connect: { timeout: options.connectTimeoutMs },
    // Only backstops: undici's coarse timers can fire hundreds of ms early, so the per-call budget below decides.
    headersTimeout: options.timeoutMs * 2,
    bodyTimeout: options.timeoutMs * 2,
    keepAliveTimeout: 30_000,
  });
  const retrying = agent.compose(
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

  async function send(method: "GET" | "DELETE", token: string, url: URL, callOptions: CallOptions = {}): Promise<RawResponse> {
    assertSendable(token);
    const { signal: callerSignal, onRateLimit } = callOptions;
    if (callerSignal?.aborted) throw deadlineError();
    const budget = new AbortController();
    const timer = setTimeout(() => budget.abort(), options.timeoutMs);
    const signal = callerSignal ? AbortSignal.any([budget.signal, callerSignal]) : budget.signal;
    const interruption = (): Interruption => (callerSignal?.aborted ? "deadline" : budget.signal.aborted ? "budget" : undefined);
    try {
      // DELETE goes around the retry interceptor: repeating a revoke whose answer was lost would only see a 401.
      const response = await (method === "GET" ? retrying : agent).request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method,
        headers: { authorization: `Bearer ${token}`, accept: "application/json", "user-agent": USER_AGENT },
        signal,
      });
      const rateLimit = parseRateLimit(response.headers);
      report(onRateLimit, rateLimit);
      return { status: response.statusCode, headers: response.headers, text: await readBody(response.body), rateLimit };
    } catch (error) {
      if (error instanceof BuildkiteError) throw error;
      throw networkError(error, interruption(), options.timeoutMs);
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    url(segments, query) {
      const url = new URL(segments.map(pathSegment).join("/"), baseUrl);
      for (const [key, value] of Object.entries(query ?? {})) url.searchParams.set(key, String(value));
      return url;
    },
    send,
    async getJson(token, url, callOptions) {
      const response = await send("GET", token, url, callOptions);
      const body = parseJson(response.text);
      if (response.status !== 200) throw errorForStatus(response.status, body, response.rateLimit);
      if (body === undefined) {
        throw new BuildkiteError("unexpected_response", "Buildkite answered 200 with a body that is not JSON", {
          status: 200,
          reason: "body is not JSON",
        });
      }
      return { body, headers: response.headers };
    },
    async close() {
      await agent.close();
    },
  };
}

/** Parses a 200 body with a schema; a mismatch names the fields, never their values. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.map(String).join(".") || "(body)"))].slice(0, 5);
  throw new BuildkiteError("unexpected_response", `Buildkite's ${what} did not match the documented shape (${fields.join(", ")})`, {
    status: 200,
    reason: "body does not match schema",
  });
}

export function headerValue(headers: RawResponse["headers"], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function pathSegment(segment: string | number): string {
  const text = String(segment);
  // "", "." and ".." would change which path is asked for (URL parsing removes dot segments, even encoded ones).
  if (text === "" || text === "." || text === "..") {
    throw new BuildkiteError("not_found", "That name cannot be part of a Buildkite API path; nothing was sent", {
      reason: "invalid path segment",
    });
  }
  return encodeURIComponent(text);
}

function report(onRateLimit: CallOptions["onRateLimit"], info: RateLimitInfo) {
  if (!onRateLimit) return;
  try {
    onRateLimit(info);
  } catch {
    // An observer's failure is not the call's failure.
  }
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
