// `npm run db:migrate`: applies prisma/migrations to DATABASE_URL, or to the embedded database in DATA_DIR.
import { ConfigError, getConfig } from "../lib/config";
import { startEmbeddedPostgres } from "../lib/db/embedded-postgres";
import { migrate } from "../lib/db/migrate";

async function main() {
  const config = getConfig();
  const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres({ dataDir: config.dataDir });
  try {
    const applied = await migrate(config.databaseUrl ?? embedded!.url);
    const target = embedded ? `embedded database in ${embedded.clusterDir}` : "DATABASE_URL";
    console.log(applied.length > 0 ? `Applied to ${target}: ${applied.join(", ")}` : `${target} is up to date.`);
  } finally {
    await embedded?.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error instanceof Error ? error.message : error);
  process.exit(1);
});
