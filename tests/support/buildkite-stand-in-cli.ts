/**
 * Runs the Buildkite stand-in as its own process for browser tests, with every fixture token registered:
 *   node --import tsx tests/support/buildkite-stand-in-cli.ts --port 4010 [--latency-ms 50] [--enforce-rate-limits]
 * Port: --port N, else BUILDKITE_STAND_IN_PORT, else a random free one (printed). Host: --host or
 * BUILDKITE_STAND_IN_HOST, default 127.0.0.1. Latency can be changed later with POST /__stand-in/latency {"ms": N}.
 * Relative imports only: tsx does not know the "@/" alias.
 */
import { registerFixtures } from "./buildkite-fixtures";
import { startBuildkiteStandIn } from "./buildkite-stand-in";

function option(name: string): string | undefined {
  const args = process.argv.slice(2);
  const inline = args.find((arg) => arg.startsWith(`--${name}=`));
  if (inline) return inline.slice(name.length + 3);
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? args[index + 1] : undefined;
}

const rawPort = option("port") ?? process.env.BUILDKITE_STAND_IN_PORT ?? "0";
const port = Number(rawPort);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`buildkite stand-in: --port must be 0-65535, got "${rawPort}"`);
  process.exit(2);
}
const host = option("host") ?? process.env.BUILDKITE_STAND_IN_HOST ?? "127.0.0.1";
const rawLatency = option("latency-ms") ?? "0";
const latencyMs = Number(rawLatency);
if (!Number.isFinite(latencyMs) || latencyMs < 0) {
  console.error(`buildkite stand-in: --latency-ms must be a number of milliseconds >= 0, got "${rawLatency}"`);
  process.exit(2);
}
const enforceRateLimits = process.argv.slice(2).includes("--enforce-rate-limits");

const standIn = await startBuildkiteStandIn({ port, host, latencyMs, enforceRateLimits });
registerFixtures(standIn);
console.log(`buildkite stand-in listening on ${standIn.url}`);

let stopping = false;
async function stop(signal: NodeJS.Signals) {
  if (stopping) return;
  stopping = true;
  await standIn.close();
  console.log(`buildkite stand-in stopped (${signal})`);
  process.exit(0);
}
process.on("SIGTERM", (signal) => void stop(signal));
process.on("SIGINT", (signal) => void stop(signal));
