// Starts everything the browser tests drive: a fresh database, the Buildkite and Secrets Manager stand-ins on
// real ports, and the app itself through the same start script `npm start` uses (production build, next start).
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { registerFixtures } from "../../tests/support/buildkite-fixtures";
import { startBuildkiteStandIn } from "../../tests/support/buildkite-stand-in";
import { STAND_IN_CREDENTIALS, startSecretsManagerStandIn } from "../../tests/support/secrets-manager-stand-in";
import { provisionTestDatabase } from "../../tests/support/test-database";
import { e2eBackend, e2eBaseUrl, e2ePort } from "./environment";

const root = path.resolve(import.meta.dirname, "../..");

export default async function globalSetup() {
  const database = await provisionTestDatabase("e2e");
  const buildkite = await startBuildkiteStandIn();
  registerFixtures(buildkite);
  const secretsManager = await startSecretsManagerStandIn();
  const dataDir = await mkdtemp(path.join(tmpdir(), "gitar-e2e-"));
  const logDir = path.join(root, "test-results", `e2e-${e2eBackend}`);
  await mkdir(logDir, { recursive: true });
  const logFile = path.join(logDir, "server.log");

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(e2ePort),
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    DATABASE_URL: database.url,
    ...(database.kind === "embedded" ? { DATABASE_POOL_SIZE: "1" } : {}),
    BUILDKITE_API_URL: buildkite.url,
    BUILDKITE_TIMEOUT_MS: "2500",
    BUILDKITE_CONNECT_TIMEOUT_MS: "1000",
    SECRETS_BACKEND: e2eBackend,
    SECRETS_TIMEOUT_MS: "2000",
    AUTH_DEMO: "true",
    NEXT_TELEMETRY_DISABLED: "1",
    ...(e2eBackend === "aws"
      ? {
          AWS_REGION: secretsManager.region,
          AWS_ACCESS_KEY_ID: STAND_IN_CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: STAND_IN_CREDENTIALS.secretAccessKey,
          AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManager.url,
          SECRETS_KMS_KEY_ID: "alias/gitar-e2e",
        }
      : {}),
  };
  // The machine's own AWS profile or session token, or a configured identity provider, would change what is tested.
  for (const name of ["AWS_PROFILE", "AWS_SESSION_TOKEN", "AUTH_GITHUB_ID", "AUTH_GOOGLE_ID", "AUTH_OIDC_ISSUER"]) {
    delete env[name];
  }

  const log = createWriteStream(logFile);
  const app = spawn(process.execPath, ["--conditions=react-server", "--import", "tsx", "scripts/start.ts"], {
    cwd: root,
    env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  app.stdout!.pipe(log);
  app.stderr!.pipe(log);
  await waitForApp(app, logFile);

  process.env.E2E_DATABASE_URL = database.url;
  process.env.E2E_BUILDKITE_URL = buildkite.url;
  process.env.E2E_SECRETS_MANAGER_URL = secretsManager.url;
  process.env.E2E_SERVER_LOG = logFile;
  process.env.E2E_DATA_DIR = dataDir;

  return async () => {
    await stopProcessGroup(app);
    log.end();
    await buildkite.close();
    await secretsManager.close();
    await database.drop();
    await rm(dataDir, { recursive: true, force: true });
  };
}

async function waitForApp(app: ChildProcess, logFile: string) {
  // The first run builds the app, which takes a minute or two on a small machine.
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    if (app.exitCode !== null) throw new Error(`The app exited with code ${app.exitCode}; see ${logFile}`);
    try {
      const response = await fetch(`${e2eBaseUrl}/sign-in`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`The app did not start within 5 minutes; see ${logFile}`);
}

async function stopProcessGroup(child: ChildProcess) {
  if (child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  process.kill(-child.pid, "SIGTERM");
  const timer = setTimeout(() => child.pid && process.kill(-child.pid, "SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}
