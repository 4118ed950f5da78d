import "server-only";

import type { LookupFunction } from "node:net";
import { Agent, request } from "undici";
import type { AttemptOutcome } from "./retry-policy";
import { checkEndpointUrl, resolveForDelivery, type ResolvedAddress, type Resolver } from "./ssrf-guard";

/**
 * One attempt: check the URL, resolve its name, check every address, then POST to the checked address and nothing
 * else. A fresh agent per attempt whose `lookup` answers only with that address, so the socket cannot end up
 * anywhere the guard did not see (TLS still verifies the certificate against the URL's host name). No redirect is
 * followed: a 3xx is an answer like any other, and not a success.
 */

export type HttpAttempt = { outcome: AttemptOutcome; durationMs: number };

export type HttpAttemptOptions = {
  timeoutMs: number;
  allowPrivateNetworks: boolean;
  resolver?: Resolver;
};

const MAX_RESPONSE_BYTES = 64 * 1024;

function pinnedLookup(address: ResolvedAddress): LookupFunction {
  return ((_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, [{ address: address.address, family: address.family }]);
    else callback(null, address.address, address.family);
  }) as LookupFunction;
}

const TIMEOUT_CODES = new Set(["UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "ETIMEDOUT", "UND_ERR_ABORTED", "ABORT_ERR"]);

export async function postWebhook(
  target: string,
  body: string,
  headers: Record<string, string>,
  options: HttpAttemptOptions,
): Promise<HttpAttempt> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const checked = checkEndpointUrl(target, options.allowPrivateNetworks);
  if (!checked.ok) return { outcome: { kind: "blocked", reason: checked.problem }, durationMs: elapsed() };
  const resolved = await resolveForDelivery(checked.url, options);
  if (!resolved.ok) {
    return { outcome: resolved.reason === "dns_failed" ? { kind: "connection_failed" } : { kind: "blocked", reason: resolved.reason }, durationMs: elapsed() };
  }

  const agent = new Agent({
    connect: { lookup: pinnedLookup(resolved.address), timeout: options.timeoutMs },
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    // One request per agent: nothing to keep alive.
    pipelining: 0,
  });
  const signal = AbortSignal.timeout(options.timeoutMs);
  try {
    const response = await request(checked.url, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": "Gitar-Webhooks/1.0", ...headers },
      body,
      dispatcher: agent,
      signal,
    });
    // Read a little of the answer so the connection ends cleanly; what it says is never stored or shown.
    await drain(response.body);
    const status = response.statusCode;
    const outcome: AttemptOutcome = status >= 200 && status < 300 ? { kind: "delivered", status } : { kind: "http_error", status };
    return { outcome, durationMs: elapsed() };
  } catch (error) {
    const code = (error as { code?: string; name?: string }).code ?? (error as { name?: string }).name;
    const timedOut = signal.aborted || (code !== undefined && TIMEOUT_CODES.has(code)) || code === "TimeoutError" || code === "AbortError";
    return { outcome: timedOut ? { kind: "timeout" } : { kind: "connection_failed" }, durationMs: elapsed() };
  } finally {
    agent.destroy().catch(() => undefined);
  }
}

async function drain(stream: AsyncIterable<Buffer>): Promise<void> {
  let read = 0;
  for await (const chunk of stream) {
    read += chunk.length;
    if (read > MAX_RESPONSE_BYTES) break;
  }
}
