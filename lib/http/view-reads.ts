import "server-only";

import { headers } from "next/headers";
import { getViewCache, type ViewCacheKind } from "@/lib/db/view-cache";
import { VIEW_CACHE_HEADER } from "./view-cache-header";

/**
 * A read for rendering a page: through the view cache (lib/db/view-cache.ts) on a plain page view, from the database
 * on anything else — a server action (its checks, and the page it renders after its change) or a route handler.
 */
export async function readForView<T>(kind: ViewCacheKind, key: string, load: () => Promise<T>): Promise<T> {
  const cache = getViewCache();
  if (!cache || (await headers()).get(VIEW_CACHE_HEADER) !== "allowed") return load();
  return cache.read(kind, key, load);
}
