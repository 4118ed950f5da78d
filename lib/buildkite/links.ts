import { BuildkiteError } from "./errors";

/** Buildkite's pagination: a `Link` header with rel="next" / "last" / "first" / "prev" targets (RFC 8288). */

function linkTargets(link: string | undefined, rel: string): string[] {
  if (!link) return [];
  const targets: string[] = [];
  for (const match of link.matchAll(/<([^>]*)>((?:\s*;\s*[^;,]+)*)/g)) {
    const rels = /;\s*rel\s*=\s*"?([^";]+)"?/i.exec(match[2] ?? "")?.[1];
    if (rels?.toLowerCase().split(/\s+/).includes(rel)) targets.push(match[1] ?? "");
  }
  return targets;
}

/** The `rel="next"` target of a Link header, only if it stays on the same origin (the token goes with it). */
export function nextPage(link: string | undefined, current: URL): URL | undefined {
  const [target] = linkTargets(link, "next");
  if (target === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(target, current);
  } catch {
    throw new BuildkiteError("unexpected_response", "Buildkite's next-page link is not a URL", { reason: "bad pagination link" });
  }
  if (url.origin !== current.origin) {
    throw new BuildkiteError("unexpected_response", "Buildkite's next-page link points to another host", {
      reason: "cross-origin pagination link",
    });
  }
  return url;
}

/** The page number of the `rel="last"` target, or null when there is none (or it carries no usable `page`). */
export function lastPageNumber(link: string | undefined, current: URL): number | null {
  const [target] = linkTargets(link, "last");
  if (target === undefined) return null;
  try {
    const page = new URL(target, current).searchParams.get("page");
    return page !== null && /^[1-9]\d{0,8}$/.test(page) ? Number(page) : null;
  } catch {
    return null;
  }
}
