/**
 * Where to go after signing in. Only one of the app's own pages, named exactly, with at most a plain query string of
 * its own: anything else — another origin, `//host`, `/\host`, a tab or newline a browser strips, an encoded
 * slash or backslash, `javascript:`, userinfo, a path we do not serve — gives the default. An allow-list rather
 * than a check for "starts with one slash": browsers read `\` as `/` and drop tabs and newlines, so a string that
 * looks like a path can still name another host. Every place that reads or writes a callback URL goes through this
 * (the sign-in page and its actions, Auth.js's redirect callback).
 */
export const DEFAULT_AFTER_SIGN_IN = "/settings/integrations";

/** The pages a person may be sent back to after signing in. */
export const CALLBACK_PATHS = ["/settings/integrations", "/settings/audit", "/settings/api-keys", "/settings/api-reference"] as const;

const PATHS: ReadonlySet<string> = new Set(CALLBACK_PATHS);
const MAX_LENGTH = 512;
// A query string of unreserved characters, `=`, `&`, `+` and well-formed percent escapes: nothing that could end
// the path, start a fragment, or be rewritten by a browser's URL parser.
const QUERY = /^(?:[A-Za-z0-9\-._~=&+]|%[0-9A-Fa-f]{2})*$/;

export function safeCallbackPath(value: unknown): string {
  if (typeof value !== "string" || value.length > MAX_LENGTH) return DEFAULT_AFTER_SIGN_IN;
  const queryStart = value.indexOf("?");
  const path = queryStart === -1 ? value : value.slice(0, queryStart);
  const query = queryStart === -1 ? "" : value.slice(queryStart + 1);
  if (!PATHS.has(path) || !QUERY.test(query)) return DEFAULT_AFTER_SIGN_IN;
  return query ? `${path}?${query}` : path;
}

/**
 * Auth.js's redirect callback: its own endpoints (an OAuth return, sign-out) take a callback URL from a cookie or a
 * form field. An absolute URL is accepted only on this site's origin, then held to the same allow-list.
 */
export function safeRedirectUrl(url: string, baseUrl: string): string {
  let candidate = url;
  if (URL.canParse(url) && !url.startsWith("/")) {
    const parsed = new URL(url);
    if (parsed.origin !== new URL(baseUrl).origin) return `${baseUrl}${DEFAULT_AFTER_SIGN_IN}`;
    candidate = `${parsed.pathname}${parsed.search}`;
  }
  // Sign-out sends people to the sign-in page; nothing else outside the settings pages is a destination.
  if (candidate === "/sign-in") return `${baseUrl}/sign-in`;
  return `${baseUrl}${safeCallbackPath(candidate)}`;
}
