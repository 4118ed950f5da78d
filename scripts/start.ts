// `npm start` (and `npm run dev` with --dev): everything the app needs, then Next.
//   1. read and validate the configuration (a bad variable stops here, named);
//   2. no DATABASE_URL → start the embedded PostgreSQL (its cluster in DATA_DIR) on a free local port;
//   3. apply migrations; seed the demo organisations in demo mode;
//   4. production: build when the sources changed since the last build;
//   5. start the job runner here (scheduled checks, the reconciler) unless JOBS_IN_APP=false;
//   6. run Next with the resolved settings, and shut everything down together: Next, then the jobs, then the database.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { createDb } from "../lib/db/client";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "../lib/db/embedded-postgres";
import { migrate } from "../lib/db/migrate";
import { createJobContext } from "../lib/jobs/context";
import { startJobRunner, type JobRunner } from "../lib/jobs/runner";
import { readOrCreateSecretFile } from "../lib/runtime/generated-secret";
import { assertPortFree } from "../lib/runtime/instance-lock";
import { seedDemoData } from "../prisma/seed";
import { buildApp, buildIsCurrent } from "./app-build";
import { configOrExit, fail } from "./cli";

const root = path.resolve(import.meta.dirname, "..");
const nextBin = path.join(root, "node_modules/next/dist/bin/next");
const dev = process.argv.includes("--dev");

async function main() {
  const config = configOrExit();

  try {
    await assertPortFree(config.port, config.host);
  } catch (error) {
    fail((error as Error).message);
  }

  // The embedded server runs in its own process group and outlives this process unless stopped: every way out
  // below goes through stopDatabase(). A start still under way is waited for, then stopped.
  let database: Promise<EmbeddedPostgres> | undefined;
  let databaseStopped: Promise<void> | undefined;
  const stopDatabase = () =>
    (databaseStopped ??= (database ?? Promise.resolve(undefined)).then(
      (embedded) => embedded?.stop(),
      () => undefined,
    ));
  const abort = async (message: string): Promise<never> => {
    await stopDatabase();
    fail(message);
  };

  let jobs: { runner: JobRunner; close(): Promise<void> } | undefined;
  const stopJobs = async () => {
    await jobs?.runner.stop().catch(() => undefined);
    await jobs?.close().catch(() => undefined);
  };

  let child: ChildProcess | undefined = undefined;
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    // Next first; its exit handler below stops the database. Before Next runs, stop the database and leave.
    if (child) child.kill(signal);
    else void stopJobs().then(stopDatabase).finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));

  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    database = startEmbeddedPostgres({ dataDir: config.dataDir, log: (line) => console.log(line) });
    let embedded: EmbeddedPostgres;
    try {
      embedded = await database;
    } catch (error) {
      fail((error as Error).message);
    }
    databaseUrl = embedded.url;
    const shown = embedded.clusterDir.startsWith(root + path.sep) ? path.relative(root, embedded.clusterDir) : embedded.clusterDir;
    console.log(`▸ embedded PostgreSQL ${embedded.version} on 127.0.0.1:${embedded.port}, data in ${shown}`);
  }

  try {
    await prepareDatabase(databaseUrl, config.auth.demoMode);
  } catch (error) {
    await abort(error instanceof Error ? error.message : String(error));
  }

  const authSecret = config.auth.secret ?? (await readOrCreateSecretFile(config.dataDir, "auth-secret"));

  if (!dev && !(await buildIsCurrent(root))) {
    console.log("▸ building the app (first run, or the sources changed) …");
    if (!(await buildApp(root))) await abort("The build failed; see the output above.");
  }

  // In this process rather than inside Next: the jobs keep to their own schedule whatever serves the pages, and
  // `npm run worker` runs exactly the same runner when a deployment separates the two.
  if (config.jobsInApp && !stopping) {
    try {
      const context = createJobContext(config, databaseUrl);
      jobs = { runner: await startJobRunner({ databaseUrl, context }), close: () => context.close() };
      console.log("▸ job runner: scheduled Buildkite checks and the secret reconciler");
    } catch (error) {
      await abort(`The job runner could not start: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (stopping) return;
  child = spawn(
    process.execPath,
    [nextBin, dev ? "dev" : "start", "--port", String(config.port), "--hostname", config.host],
    {
      cwd: root,
      stdio: "inherit",
      env: {
        ...process.env,
        NODE_ENV: dev ? "development" : "production",
        // The embedded database's URL goes under its own name: to the app's configuration, DATABASE_URL means a
        // database of your own (no demo mode, no implicit local secret store).
        ...(config.databaseUrl ? {} : { GITAR_EMBEDDED_DATABASE_URL: databaseUrl }),
        DATABASE_POOL_SIZE: String(config.databasePoolSize),
        AUTH_SECRET: authSecret,
        NEXT_TELEMETRY_DISABLED: process.env.NEXT_TELEMETRY_DISABLED ?? "1",
      },
    },
  );
  console.log(`▸ starting on http://${config.host === "0.0.0.0" ? "localhost" : config.host}:${config.port}`);

  child.on("exit", async (code, signal) => {
    // Only after Next has let go: no request still in flight loses its database. Jobs finish their run first.
    await stopJobs();
    await stopDatabase();
    process.exit(code ?? (signal ? 0 : 1));
  });
}

async function prepareDatabase(databaseUrl: string, demoMode: boolean) {
  const applied = await migrate(databaseUrl);
  console.log(applied.length > 0 ? `▸ applied migrations: ${applied.join(", ")}` : "▸ database schema is up to date");
  if (demoMode) {
    const db = createDb(databaseUrl, 1);
    try {
      await seedDemoData(db);
    } finally {
      await db.$disconnect();
    }
    console.log("▸ demo mode: sign in as admin@acme.test, member@acme.test or admin@globex.test (password: demo)");
  }
}

main().catch((error: unknown) => {
  fail(error instanceof Error ? error.message : String(error));
});
