// No "server-only" guard: the start script and the test harnesses (plain Node) run this too; it holds no secrets.

import { mkdir } from "node:fs/promises";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

/**
 * A real Postgres (PGlite, compiled to WebAssembly) served on a local TCP port, so the app runs with no database
 * server installed. It is one Postgres session shared by every client: callers must use a pool of ONE connection
 * (the start script sets DATABASE_POOL_SIZE=1), because PGlite interleaves the extended-protocol messages of
 * concurrent connections.
 */
export type EmbeddedPostgres = { url: string; stop(): Promise<void> };

export async function startEmbeddedPostgres(options: { dataDir?: string; port?: number } = {}): Promise<EmbeddedPostgres> {
  let db: PGlite;
  if (options.dataDir) {
    const directory = path.join(options.dataDir, "pglite");
    await mkdir(directory, { recursive: true, mode: 0o700 });
    db = await PGlite.create(directory);
  } else {
    db = await PGlite.create();
  }
  const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: options.port ?? 0, maxConnections: 8 });
  await server.start();
  const address = server.getServerConn();
  return {
    url: `postgresql://postgres:postgres@${address}/postgres?sslmode=disable`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
