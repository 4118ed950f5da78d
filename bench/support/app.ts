// The app as `npm start` serves it (production build, `next start`), on a bench database of the machine's Postgres,
// with the AWS backend and Buildkite pointed at the stand-ins' process, demo accounts seeded, and a session cookie
// for any of them minted with the app's own AUTH_SECRET (what Auth.js sets after a password sign-in).
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { encode } from "next-auth/jwt";
import { createDb } from "../../lib/db/client";
import { seedDemoData } from "../../prisma/seed";
import { buildApp, buildIsCurrent } from "../../scripts/app-build";
import { stopProcessGroup, waitUntilAnswering } from "../../tests/support/app-server-process";
import { provisionTestDatabase, type TestDatabase } from "../../tests/support/test-database";
import type { StandInsProcess } from "./stand-ins";

const root = path.resolve(import.meta.dirname, "../..");
const nextBin = path.join(root, "node_modules/next/dist/bin/next");
const SESSION_COOKIE = "authjs.session-token";

export type BenchApp = {
  url: string;
  database: TestDatabase;
  pid: number;
  logFile: string;
  /** A Cookie header signed in as that user (one of the demo accounts, or any user in the database). */
  sessionCookie(email: string): Promise<string>;
  stop(): Promise<void>;
};

export async function ensureBuild() {
  if (await buildIsCurrent(root)) return;
  console.log("   building the app (the sources changed since the last build) …");
  if (!(await buildApp(root))) throw new Error("next build failed");
}

export async function startBenchApp(options: {
  serverUrl: string;
  standIns: StandInsProcess;
  port: number;
  label: string;
  env?: Record<string, string>;
  /** Extra node flags for the server process, e.g. --cpu-prof. */
  nodeFlags?: string[];
}): Promise<BenchApp> {
  await ensureBuild();
  const database = await provisionTestDatabase(options.label, options.serverUrl);
  const db = createDb(database.url, 1);
  await seedDemoData(db);
  await db.$disconnect();
  const dataDir = await mkdtemp(path.join(tmpdir(), "gitar-bench-"));
  const authSecret = randomBytes(32).toString("base64");
  const logFile = path.join(dataDir, "server.log");
  const log = createWriteStream(logFile);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...options.standIns.awsEnv,
    NODE_ENV: "production",
    PORT: String(options.port),
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    DATABASE_URL: database.url,
    AUTH_DEMO: "true",
    AUTH_SECRET: authSecret,
    // The schedule and the reconciler would call the stand-ins on their own: off, so every call counted is a request's.
    JOBS_IN_APP: "false",
    BUILDKITE_API_URL: options.standIns.buildkiteUrl,
    SECRETS_BACKEND: "aws",
    NEXT_TELEMETRY_DISABLED: "1",
    ...options.env,
  };
  for (const name of ["AWS_PROFILE", "AWS_SESSION_TOKEN", "AUTH_GITHUB_ID", "AUTH_GOOGLE_ID", "AUTH_OIDC_ISSUER"]) delete env[name];
  const app: ChildProcess = spawn(process.execPath, [...(options.nodeFlags ?? []), nextBin, "start", "--port", String(options.port), "--hostname", "127.0.0.1"], {
    cwd: root,
    env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  app.stdout!.pipe(log);
  app.stderr!.pipe(log);
  const url = `http://127.0.0.1:${options.port}`;
  await waitUntilAnswering(app, url, { timeoutMs: 60_000, logFile });
  return {
    url,
    database,
    pid: app.pid!,
    logFile,
    async sessionCookie(email) {
      const lookup = createDb(database.url, 1);
      const user = await lookup.user.findUniqueOrThrow({ where: { email }, select: { id: true, email: true, name: true } });
      await lookup.$disconnect();
      const token = await encode({
        token: { sub: user.id, userId: user.id, email: user.email, name: user.name },
        secret: authSecret,
        salt: SESSION_COOKIE,
        maxAge: 8 * 60 * 60,
      });
      return `${SESSION_COOKIE}=${token}`;
    },
    async stop() {
      await stopProcessGroup(app);
      log.end();
      await database.drop();
      if (!process.env.BENCH_KEEP_LOGS) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
