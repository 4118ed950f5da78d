/**
 * The Content-Security-Policy every page is served with (proxy.ts sets it per request).
 *
 * Scripts run only with this request's nonce; 'strict-dynamic' lets those scripts load the build's chunks, and
 * nothing else — not an injected inline script, not a script from another origin, not 'self' files an attacker
 * might have placed. Next reads the nonce from the policy on the request and puts it on its own script tags, so a
 * page must be rendered per request (the root layout makes every route dynamic).
 *
 * Styles come from the build's stylesheets only: no inline style attributes or <style> elements anywhere in the
 * app (the sign-in, error and not-found pages use classes for that reason). Next's dev server injects styles and
 * evaluates code for its overlay, so development adds 'unsafe-inline' styles and 'unsafe-eval'.
 *
 * form-action: sign-in forms post to our own routes, which answer with a redirect to the identity provider;
 * browsers hold that redirect to form-action too, so each configured provider's origin is listed.
 */
export type PolicyOptions = { nonce: string; development: boolean; formActionOrigins: readonly string[] };

export function contentSecurityPolicy({ nonce, development, formActionOrigins }: PolicyOptions): string {
  const directives: Array<[string, ...string[]]> = [
    ["default-src", "'self'"],
    ["script-src", `'nonce-${nonce}'`, "'strict-dynamic'", ...(development ? ["'unsafe-eval'"] : [])],
    ["style-src", "'self'", ...(development ? ["'unsafe-inline'"] : [`'nonce-${nonce}'`])],
    ["img-src", "'self'", "data:"],
    ["font-src", "'self'"],
    ["connect-src", "'self'"],
    ["object-src", "'none'"],
    ["base-uri", "'none'"],
    ["frame-ancestors", "'none'"],
    ["form-action", "'self'", ...formActionOrigins],
  ];
  return directives.map((parts) => parts.join(" ")).join("; ");
}

/** A fresh, unguessable nonce: 128 random bits, base64 (the form CSP's nonce-source expects). */
export function newNonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes));
}

/**
 * Where a sign-in form may send the browser: the origins of the configured identity providers' authorization
 * endpoints. GitHub and Google have fixed ones; an OIDC provider's is on its issuer's origin in every provider we
 * know of (a provider whose authorization endpoint lives elsewhere would need its origin added here).
 */
export function identityProviderOrigins(providers: { github?: unknown; google?: unknown; oidc?: { issuer: string } }): string[] {
  const origins: string[] = [];
  if (providers.github) origins.push("https://github.com");
  if (providers.google) origins.push("https://accounts.google.com");
  if (providers.oidc) origins.push(new URL(providers.oidc.issuer).origin);
  return origins;
}
