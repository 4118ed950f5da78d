import { parseHostPattern, type HostPattern } from "@/lib/config";

/**
 * Which requests the app answers (proxy.ts runs this on every request). A request must be addressed (Host) to a
 * name in the configuration — AUTH_URL's host, this machine's names when HOST is loopback, ALLOWED_HOSTS — or it is
 * answered 421 with a short text. That stops DNS rebinding: a page on evil.test whose name an attacker points at
 * 127.0.0.1 can reach a local demo, but its requests say `Host: evil.test`.
 *
 * X-Forwarded-Host and its siblings are a client's to invent unless a proxy we trust sets them. With
 * TRUST_PROXY=true they must name an allowed host too; otherwise they are dropped (Next then sets them from the
 * socket and the Host header), so neither Auth.js's URLs nor the sign-in throttle's client address can be steered.
 */

export const FORWARDED_HEADERS = ["x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-forwarded-port", "forwarded"] as const;

export type HostDecision = { ok: true; dropForwardedHeaders: boolean } | { ok: false; status: 421; body: string };

const REFUSED: HostDecision = {
  ok: false,
  status: 421,
  body: "Misdirected request: this server does not answer to the host name this request was sent to.\n",
};

export function isAllowedHost(value: string | null | undefined, allowed: readonly HostPattern[]): boolean {
  if (!value) return false;
  const host = parseHostPattern(value);
  if (!host) return false;
  return allowed.some((pattern) => pattern.hostname === host.hostname && (pattern.port === undefined || pattern.port === host.port));
}

export function checkRequestHost(headers: Headers, options: { allowedHosts: readonly HostPattern[]; trustProxy: boolean }): HostDecision {
  if (!isAllowedHost(headers.get("host"), options.allowedHosts)) return REFUSED;
  if (!options.trustProxy) return { ok: true, dropForwardedHeaders: true };
  const forwardedHost = headers.get("x-forwarded-host");
  if (forwardedHost !== null && !isAllowedHost(forwardedHost, options.allowedHosts)) return REFUSED;
  return { ok: true, dropForwardedHeaders: false };
}
