import "server-only";

import { LRUCache } from "lru-cache";
import { getConfig } from "@/lib/config";
import { listen, type Listener } from "./listen";

/**
 * Rows the settings pages show on every view (who is signed in, in which organisation with which role; the
 * organisation's Buildkite connection), kept in this process between views and dropped the moment a change to them
 * commits anywhere: triggers on their tables NOTIFY this channel from inside the changing transaction
 * (prisma/migrations/20261208000000_view_cache_notifications), and one connection per process LISTENs to it.
 *
 * Why: those two reads were most of what a settings view cost beyond a bare page (Prisma's work per query, a socket
 * round trip each, and Postgres's own time on a shared machine; docs/benchmarks.md, part 2), and settings change far
 * less often than they are looked at.
 *
 * What keeps it honest:
 * - Only plain page views read through it (lib/http/view-reads.ts). A server action's checks and the page it renders
 *   afterwards, and the API, always read the database: an admin's own change shows at once, and no decision about
 *   what someone may do is ever made on a cached row.
 * - While the listening connection is not in place, nothing is read from or kept in the cache; when it is (again),
 *   the cache starts empty, since what changed meanwhile was not heard.
 * - A row read while any change was heard is not kept: it may predate that change.
 * - Entries also expire after a minute, should a change ever be made with triggers disabled.
 */
export const VIEW_CACHE_CHANNEL = "gitar_view_cache";

export type ViewCacheKind = "membership" | "connection";

const MAX_ENTRIES = 10_000;
const MAX_AGE_MS = 60_000;

export class ViewCache {
  readonly #entries: Record<ViewCacheKind, LRUCache<string, { value: unknown }>> = {
    membership: new LRUCache({ max: MAX_ENTRIES, ttl: MAX_AGE_MS }),
    connection: new LRUCache({ max: MAX_ENTRIES, ttl: MAX_AGE_MS }),
  };
  /** Counts the changes heard (and losses of the connection): a read that saw the count move is not kept. */
  #changes = 0;
  #listening = false;

  get listening(): boolean {
    return this.#listening;
  }

  /** A notification's payload, "<kind>:<key>" or "<kind>:*". Anything else empties the cache. */
  changed(payload: string): void {
    this.#changes += 1;
    const [kind, key] = payload.split(":", 2) as [string, string | undefined];
    const entries = kind === "membership" || kind === "connection" ? this.#entries[kind] : null;
    if (!entries || !key) return this.#clear();
    if (key === "*") entries.clear();
    else entries.delete(key);
  }

  /** Whether changes are being heard. Either way, what was kept is dropped. */
  setListening(listening: boolean): void {
    this.#listening = listening;
    this.#changes += 1;
    this.#clear();
  }

  /** The kept row for `key`, else `load()`'s, kept if no change was heard while it loaded. */
  async read<T>(kind: ViewCacheKind, key: string, load: () => Promise<T>): Promise<T> {
    if (!this.#listening) return load();
    const entries = this.#entries[kind];
    const kept = entries.get(key);
    if (kept) return kept.value as T;
    const changesBefore = this.#changes;
    const value = await load();
    if (this.#listening && this.#changes === changesBefore) entries.set(key, { value });
    return value;
  }

  #clear(): void {
    for (const entries of Object.values(this.#entries)) entries.clear();
  }
}

/** A view cache kept current by a listening connection of its own. `listener` settles once the first attempt to
 *  listen is over (it keeps trying by itself); until it succeeds, the cache keeps nothing. */
export function startViewCache(databaseUrl: string): { cache: ViewCache; listener: Promise<Listener> } {
  const cache = new ViewCache();
  const listener = listen({
    databaseUrl,
    channels: [VIEW_CACHE_CHANNEL],
    applicationName: "gitar-view-cache",
    logAs: "view_cache",
    onNotification: (_channel, payload) => cache.changed(payload),
    onListening: () => cache.setListening(true),
    onLost: () => cache.setListening(false),
  });
  return { cache, listener };
}

const globalForCache = globalThis as typeof globalThis & { __viewCache?: ViewCache | null };

/** This process's view cache, listening from its first use; null when VIEW_CACHE=false or there is no database. */
export function getViewCache(): ViewCache | null {
  if (globalForCache.__viewCache !== undefined) return globalForCache.__viewCache;
  const { viewCache: enabled, databaseUrl } = getConfig();
  globalForCache.__viewCache = enabled && databaseUrl ? startViewCache(databaseUrl).cache : null;
  return globalForCache.__viewCache;
}
