// `npm start` (and `npm run dev` with --dev): everything the app needs, then Next.
//   1. read and validate the configuration (a bad variable stops here, named);
//   2. no DATABASE_URL → serve the embedded Postgres (PGlite) from DATA_DIR on a local port;
//   3. apply migrations; seed the demo organisations in demo mode;
//   4. production: build when the sources changed since the last build;
//   5. run Next with the resolved settings, and shut everything down together.
import { spawn, spawnSync } from "node:child_process";
import path from "node:path";
import { ConfigError, getConfig } from "../lib/config";
import { createDb } from "../lib/db/client";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "../lib/db/embedded-postgres";
import { migrate } from "../lib/db/migrate";
import { readOrCreateSecretFile } from "../lib/runtime/generated-secret";
import { assertPortFree, lockDataDir } from "../lib/runtime/instance-lock";
import { seedDemoData } from "../prisma/seed";
import { buildIsCurrent, recordBuild } from "./build-fingerprint";

const root = path.resolve(import.meta.dirname, "..");
const nextBin = path.join(root, "node_modules/next/dist/bin/next");
const dev = process.argv.includes("--dev");

function fail(message: string): never {
  console.error(`\n✖ ${message}\n`);
  process.exit(1);
}

async function main() {
  let config;
  try {
    config = getConfig();
  } catch (error) {
    if (error instanceof ConfigError) fail(`${error.message}\nSee .env.example for every variable and its default.`);
    throw error;
  }

  try {
    await assertPortFree(config.port, config.host);
  } catch (error) {
    fail((error as Error).message);
  }

  let embedded: EmbeddedPostgres | undefined;
  let unlock: (() => Promise<void>) | undefined;
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    try {
      unlock = await lockDataDir(config.dataDir);
    } catch (error) {
      fail((error as Error).message);
    }
    embedded = await startEmbeddedPostgres({ dataDir: config.dataDir });
    databaseUrl = embedded.url;
    const shown = config.dataDir.startsWith(root + path.sep) ? path.relative(root, config.dataDir) : config.dataDir;
    console.log(`▸ embedded Postgres (PGlite) with data in ${path.join(shown, "pglite")}`);
  }
  const poolSize = embedded ? 1 : config.databasePoolSize;

  const applied = await migrate(databaseUrl);
  console.log(applied.length > 0 ? `▸ applied migrations: ${applied.join(", ")}` : "▸ database schema is up to date");

  if (config.auth.demoMode) {
    const db = createDb(databaseUrl, 1);
    await seedDemoData(db);
    await db.$disconnect();
    console.log("▸ demo mode: sign in as admin@acme.test, member@acme.test or admin@globex.test (password: demo)");
  }

  const authSecret = config.auth.secret ?? (await readOrCreateSecretFile(config.dataDir, "auth-secret"));

  if (!dev && !(await buildIsCurrent(root))) {
    console.log("▸ building the app (first run, or the sources changed) …");
    const build = spawnSync(process.execPath, [nextBin, "build"], {
      cwd: root,
      stdio: "inherit",
      env: { ...process.env, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: process.env.NEXT_TELEMETRY_DISABLED ?? "1" },
    });
    if (build.status !== 0) {
      await embedded?.stop();
      await unlock?.();
      fail("The build failed; see the output above.");
    }
    await recordBuild(root);
  }

  const child = spawn(
    process.execPath,
    [nextBin, dev ? "dev" : "start", "--port", String(config.port), "--hostname", config.host],
    {
      cwd: root,
      stdio: "inherit",
      env: {
        ...process.env,
        NODE_ENV: dev ? "development" : "production",
        DATABASE_URL: databaseUrl,
        DATABASE_POOL_SIZE: String(poolSize),
        AUTH_SECRET: authSecret,
        NEXT_TELEMETRY_DISABLED: process.env.NEXT_TELEMETRY_DISABLED ?? "1",
      },
    },
  );
  console.log(`▸ starting on http://${config.host === "0.0.0.0" ? "localhost" : config.host}:${config.port}`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    child.kill(signal);
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));

  child.on("exit", async (code, signal) => {
    // PGlite flushes to disk on close: stop it only after Next has let go, so nothing written is lost.
    await embedded?.stop();
    await unlock?.();
    process.exit(code ?? (signal ? 0 : 1));
  });
}

main().catch((error: unknown) => {
  fail(error instanceof Error ? error.message : String(error));
});
