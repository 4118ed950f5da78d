// Starts everything the browser tests drive: a fresh database, the Buildkite and Secrets Manager stand-ins on
// real ports, and the app itself through the same start script `npm start` uses (production build, next start).
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { registerFixtures } from "../../tests/support/buildkite-fixtures";
import { startBuildkiteStandIn } from "../../tests/support/buildkite-stand-in";
import { STAND_IN_CREDENTIALS, startSecretsManagerStandIn } from "../../tests/support/secrets-manager-stand-in";
import { provisionTestDatabase } from "../../tests/support/test-database";
import { startApp } from "./app-process";
import { e2eBackend, e2ePort } from "./environment";

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
    BUILDKITE_API_URL: buildkite.url,
    BUILDKITE_TIMEOUT_MS: "2500",
    BUILDKITE_CONNECT_TIMEOUT_MS: "1000",
    SECRETS_BACKEND: e2eBackend,
    SECRETS_TIMEOUT_MS: "2000",
    // With a database of its own (DATABASE_URL), the local store must be given its key.
    ...(e2eBackend === "local" ? { SECRETS_ENCRYPTION_KEY: randomBytes(32).toString("base64") } : {}),
    AUTH_DEMO: "true",
    // The notifications spec's receiver listens on 127.0.0.1: without this the SSRF guard (rightly) refuses it.
    WEBHOOKS_ALLOW_PRIVATE_NETWORKS: "true",
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

  const app = await startApp(env, logFile);
  // For tests that start a second instance beside this one (same database, secret store, data directory and build).
  process.env.E2E_APP_ENV = JSON.stringify(env);

  process.env.E2E_DATABASE_URL = database.url;
  process.env.E2E_BUILDKITE_URL = buildkite.url;
  process.env.E2E_SECRETS_MANAGER_URL = secretsManager.url;
  process.env.E2E_SERVER_LOG = logFile;
  process.env.E2E_DATA_DIR = dataDir;

  return async () => {
    await app.stop();
    await buildkite.close();
    await secretsManager.close();
    await database.drop();
    await rm(dataDir, { recursive: true, force: true });
  };
}
