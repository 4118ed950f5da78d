import pg from "pg";
import { log } from "@/lib/log";

/** A lost listening connection is opened again after this long, doubling up to the maximum. */
const RELISTEN_FIRST_MS = 1_000;
const RELISTEN_MAX_MS = 30_000;

export type Listener = { end(): Promise<void> };

export type ListenOptions = {
  databaseUrl: string;
  channels: readonly string[];
  /** The connection's application_name, and the prefix of its log events ("<logAs>.listen_lost", …). */
  applicationName: string;
  logAs: string;
  onNotification(channel: string, payload: string): void;
  /** Called each time LISTEN is in place; `restored` is false the first time. */
  onListening?(restored: boolean): void;
  /** Called when the connection is lost: notifications may be missed until the next onListening. */
  onLost?(): void;
};

/**
 * One connection LISTENing on some channels. Postgres sends a NOTIFY only when the transaction that made it commits.
 * A lost connection (the database restarted, a failover, an idle-connection reaper) is opened again, after a second
 * and then less and less often. What was notified while no one listened is gone: onLost and onListening(true) let
 * the caller make up for it (the job runner wakes its jobs; the view cache forgets everything).
 */
export async function listen(options: ListenOptions): Promise<Listener> {
  let current: pg.Client | null = null;
  let ended = false;
  let retryMs = RELISTEN_FIRST_MS;
  let retryTimer: NodeJS.Timeout | undefined;
  const event = (name: string) => `${options.logAs}.${name}`;

  const openLater = () => {
    if (ended || retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void open(false);
    }, retryMs);
    retryTimer.unref();
    retryMs = Math.min(retryMs * 2, RELISTEN_MAX_MS);
  };

  async function open(first: boolean) {
    const client = new pg.Client({ connectionString: options.databaseUrl, application_name: options.applicationName });
    let lost = false;
    const onLost = (error?: unknown) => {
      if (lost) return;
      lost = true;
      if (current === client) {
        current = null;
        options.onLost?.();
      }
      if (ended) return;
      log.warn(event("listen_lost"), { retryInMs: retryMs }, error);
      openLater();
    };
    client.on("error", onLost);
    client.on("end", () => onLost());
    client.on("notification", (message) => options.onNotification(message.channel, message.payload ?? ""));
    try {
      await client.connect();
      for (const channel of options.channels) await client.query(`LISTEN "${channel}"`);
    } catch (error) {
      if (!lost) {
        lost = true;
        log.warn(event("listen_failed"), { retryInMs: retryMs }, error);
        openLater();
      }
      await client.end().catch(() => undefined);
      return;
    }
    if (ended) {
      await client.end().catch(() => undefined);
      return;
    }
    current = client;
    retryMs = RELISTEN_FIRST_MS;
    if (!first) log.info(event("listen_restored"), {});
    options.onListening?.(!first);
  }

  await open(true);
  return {
    async end() {
      ended = true;
      clearTimeout(retryTimer);
      const client = current;
      current = null;
      await client?.end().catch(() => undefined);
    },
  };
}
