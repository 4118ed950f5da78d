// Gives each test run a fresh, migrated Postgres: a new database on the server named by DATABASE_URL (CI points
// it at the machine's Postgres), or, when DATABASE_URL is unset, a throwaway embedded PostgreSQL cluster.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { startThrowawayPostgres } from "../../lib/db/embedded-postgres";
import { migrate } from "../../lib/db/migrate";

export type TestDatabase = { url: string; kind: "server" | "embedded"; drop(): Promise<void> };

const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "::1", "[::1]", ""]);

export async function provisionTestDatabase(label: string, serverUrl = process.env.DATABASE_URL): Promise<TestDatabase> {
  if (!serverUrl) {
    const embedded = await startThrowawayPostgres();
    await migrate(embedded.url);
    return { url: embedded.url, kind: "embedded", drop: () => embedded.stop() };
  }

  const admin = new URL(serverUrl);
  // Tests create and drop databases: never let a stray DATABASE_URL aim them at a shared server.
  if (!LOCAL_HOSTS.has(admin.hostname)) {
    throw new Error(`Refusing to run tests against ${admin.hostname}: DATABASE_URL must point at a local Postgres.`);
  }
  const name = `bk_${label}_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
  await withClient(serverUrl, (client) => client.query(`CREATE DATABASE "${name}"`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  await migrate(url.toString());
  return {
    url: url.toString(),
    kind: "server",
    drop: () => withClient(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
  };
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
