/**
 * Set by proxy.ts on every request it passes on: "allowed" for a GET or HEAD (a page view), "fresh" otherwise. The
 * proxy always replaces what the client sent, so a client can only ever make its own reads fresher. Read by
 * lib/http/view-reads.ts; kept apart from it so that the proxy does not bundle the cache.
 */
export const VIEW_CACHE_HEADER = "x-gitar-view-cache";

export const viewCacheHeaderValue = (method: string) => (method === "GET" || method === "HEAD" ? "allowed" : "fresh");
