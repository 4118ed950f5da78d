// One scheduled verification run in a process of its own (so its peak memory is its own): the scheduler's
// runScheduledChecks with the app's parts, until no connection is due. Reports wall time, peak RSS and the run's
// counts to the parent over IPC.
import { runScheduledChecks } from "../../lib/integrations/buildkite/verify-schedule";
import { buildBenchUseCaseParts } from "./use-case-parts";

const { databaseUrl, standIns, concurrency, poolSize } = JSON.parse(process.argv[2]!) as {
  databaseUrl: string;
  standIns: { buildkiteUrl: string; secretsManagerUrl: string; region: string; awsEnv: Record<string, string> };
  concurrency: number;
  poolSize: number;
};
const parts = buildBenchUseCaseParts(databaseUrl, standIns as never, { poolSize });
// Open the pools and the first sockets before the clock starts, as a long-running worker has them.
await parts.db.$queryRaw`SELECT 1`;
const started = performance.now();
// One catch-up run over what was due when it started: the scheduler's clock stands at the start, so a connection whose
// own slot comes round while the run is still going (its next check is set by nextCheckAt, at least a minute on) is
// left for the next run, as it would be if the run were quick. Without this, a run of many minutes re-checks some
// connections at their slots, correctly, and that would hide a double claim in the count.
const startedAt = new Date();
const run = await runScheduledChecks({ ...parts.deps, now: () => startedAt }, { concurrency, budgetMs: 30 * 60_000 });
const wallMs = performance.now() - started;
const maxRssKiB = process.resourceUsage().maxRSS;
await parts.close();
process.send!({ wallMs, maxRssKiB, run }, () => process.exit(0));
