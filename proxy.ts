import { NextResponse, type NextRequest } from "next/server";
import { checkRequestHost, FORWARDED_HEADERS } from "@/lib/auth/host-check";
import { getConfig } from "@/lib/config";
import { contentSecurityPolicy, identityProviderOrigins, newNonce } from "@/lib/http/content-security-policy";
import { VIEW_CACHE_HEADER, viewCacheHeaderValue } from "@/lib/http/view-cache-header";

/**
 * Runs before every request but the build's static files: pages, server actions, Auth.js's routes, the API. Three
 * jobs: answer only requests addressed to a configured host (lib/auth/host-check.ts); give every response a
 * Content-Security-Policy with a fresh nonce (lib/http/content-security-policy.ts) — the policy goes on the request
 * too, because that is where Next looks for the nonce to put on its own script tags —; and tell the page whether it
 * may read through the view cache (only a GET or HEAD may: lib/http/view-reads.ts).
 *
 * Next 16 runs proxy.ts in the Node.js runtime, so it reads the configuration through lib/config.ts like the rest of
 * the app; getConfig() parses the environment once per process and caches it, so our part of a request is a header
 * parse, a comparison against a short list and 16 random bytes. Next's own machinery for running a proxy costs more:
 * measured here with `next start` on a busy 2-core machine, it took a static chunk from ~12 ms to ~25 ms at the
 * median, and was lost in the noise of a page render (~110-150 ms). So `_next/static` (content-hashed build output,
 * the same for everyone, nothing a rebinding attacker could learn from, no document a policy would govern) is left
 * out.
 */
export function proxy(request: NextRequest) {
  const config = getConfig();
  const decision = checkRequestHost(request.headers, { allowedHosts: config.allowedHosts, trustProxy: config.trustProxy });
  if (!decision.ok) {
    return new NextResponse(decision.body, {
      status: decision.status,
      headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
    });
  }

  const policy = contentSecurityPolicy({
    nonce: newNonce(),
    development: config.nodeEnv === "development",
    formActionOrigins: identityProviderOrigins(config.auth.providers),
  });
  const headers = new Headers(request.headers);
  headers.set("content-security-policy", policy);
  headers.set(VIEW_CACHE_HEADER, viewCacheHeaderValue(request.method));
  if (decision.dropForwardedHeaders) for (const name of FORWARDED_HEADERS) headers.delete(name);

  const response = NextResponse.next({ request: { headers } });
  response.headers.set("content-security-policy", policy);
  return response;
}

export const config = {
  matcher: ["/((?!_next/static/).*)"],
};
