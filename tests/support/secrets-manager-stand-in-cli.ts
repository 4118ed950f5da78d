/**
 * Runs the Secrets Manager stand-in as its own process, for browser tests whose app server runs elsewhere:
 *   node --import tsx tests/support/secrets-manager-stand-in-cli.ts --port 4566 [--region eu-west-1] [--latency-ms 20] [--verbose]
 * Point the app at it with AWS_ENDPOINT_URL_SECRETS_MANAGER=<printed url>, AWS_REGION=<region> and the stand-in's
 * credentials (printed too); drive faults through POST <url>/__stand-in/faults, latency through
 * POST <url>/__stand-in/latency {"ms": N}, and end recovery windows with POST <url>/__stand-in/purge-deleted.
 */
import { parseArgs } from "node:util";
import { startSecretsManagerStandIn } from "./secrets-manager-stand-in";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    host: { type: "string", default: "127.0.0.1" },
    region: { type: "string", default: "eu-west-1" },
    "latency-ms": { type: "string", default: "0" },
    verbose: { type: "boolean", default: false },
  },
});

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`--port must be 0-65535, got ${values.port}`);
  process.exit(2);
}

const latencyMs = Number(values["latency-ms"]);
if (!Number.isFinite(latencyMs) || latencyMs < 0) {
  console.error(`--latency-ms must be a number of milliseconds >= 0, got ${values["latency-ms"]}`);
  process.exit(2);
}

// Handlers first, so a signal that arrives while the server is still starting also ends the process cleanly.
let stopping = false;
const starting = startSecretsManagerStandIn({
  port,
  host: values.host,
  region: values.region,
  latencyMs,
  // Operation names and status only: never values.
  ...(values.verbose ? { onRequest: (request) => console.log(`${request.operation} ${request.status}${request.error ? ` ${request.error}` : ""}`) } : {}),
});
async function stop() {
  if (stopping) return;
  stopping = true;
  try {
    await (await starting).close();
  } finally {
    process.exit(0);
  }
}
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());

const standIn = await starting;
console.log(`secrets manager stand-in listening on ${standIn.url}`);
if (standIn.credentials) {
  console.log(
    `region ${standIn.region}; accepts AWS_ACCESS_KEY_ID=${standIn.credentials.accessKeyId} AWS_SECRET_ACCESS_KEY=${standIn.credentials.secretAccessKey}`,
  );
}
