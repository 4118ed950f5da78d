// Part 1: connect and rotate against their floor. The stand-ins add a fixed latency L to every upstream call; the
// depth (how many calls run one after another) is (median at L − median at 0) ÷ L, and the floor is the depth the
// design's safety needs (see docs/benchmarks.md) × L.
import { personActor } from "../lib/audit/actor";
import { connectBuildkite } from "../lib/integrations/buildkite/connect";
import { rotateBuildkiteToken } from "../lib/integrations/buildkite/rotate";
import { provisionTestDatabase } from "../tests/support/test-database";
import { figure, heading, median, round, timed } from "./support/measure";
import { benchToken, startStandInsProcess } from "./support/stand-ins";
import { createOrganization, buildBenchUseCaseParts } from "./support/use-case-parts";

/** Buildkite (token + organisations, together) → write the secret → read it back. */
export const FLOOR_DEPTH = 3;
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 50);
const RUNS = Number(process.env.BENCH_CONNECT_RUNS ?? 15);

export async function benchConnect(serverUrl: string) {
  heading(`Part 1 · connect and rotate at L = 0 and L = ${LATENCY_MS} ms (${RUNS} of each per latency, taking turns; median)`);
  const database = await provisionTestDatabase("bench_connect", serverUrl);
  const standIns = await startStandInsProcess();
  const parts = buildBenchUseCaseParts(database.url, standIns);
  let tokenIndex = 0;
  // Each organisation's two tokens (connect, then rotate) reach the same Buildkite organisation.
  const nextToken = async (slug: string) => {
    await standIns.register("connect", tokenIndex, 1, "good", slug);
    return benchToken("connect", tokenIndex++);
  };
  try {
    const results: Record<number, { connect: number[]; rotate: number[]; calls: { connect: string; rotate: string } }> = {};
    // The two latencies take turns, run by run, so both see the same machine.
    for (let run = 0; run <= RUNS; run += 1) {
      for (const latency of [0, LATENCY_MS]) {
        await standIns.setLatency(latency);
        const entry = (results[latency] ??= { connect: [], rotate: [], calls: { connect: "", rotate: "" } });
        const org = await createOrganization(parts.db, "bench");
        const actor = personActor(org);
        const slug = `bench-${org.organizationId.slice(0, 8)}`;
        const first = await nextToken(slug);
        await standIns.resetLog();
        const connected = await timed(() => connectBuildkite({ organizationId: org.organizationId, actor, token: first }, parts.deps));
        if (!connected.value.ok) throw new Error(`connect failed: ${connected.value.failure.code}`);
        const connectCounts = await standIns.counts();
        const second = await nextToken(slug);
        await standIns.resetLog();
        const rotated = await timed(() => rotateBuildkiteToken({ organizationId: org.organizationId, actor, token: second, revokePrevious: false }, parts.deps));
        if (!rotated.value.ok) throw new Error(`rotate failed: ${rotated.value.failure.code}`);
        const rotateCounts = await standIns.counts();
        if (run === 0) continue; // warm-up: first connections, first SDK call
        entry.connect.push(connected.ms);
        entry.rotate.push(rotated.ms);
        entry.calls.connect = describeCalls(connectCounts);
        entry.calls.rotate = describeCalls(rotateCounts);
      }
    }
    const report: Record<string, unknown> = {};
    for (const operation of ["connect", "rotate"] as const) {
      const atZero = median(results[0]![operation]);
      const atL = median(results[LATENCY_MS]![operation]);
      const depth = (atL - atZero) / LATENCY_MS;
      const ratio = atL / (FLOOR_DEPTH * LATENCY_MS);
      figure(`${operation}: upstream calls`, results[LATENCY_MS]!.calls[operation]);
      figure(`${operation}: median at L = 0 / L = ${LATENCY_MS} ms`, `${round(atZero)} ms / ${round(atL)} ms`);
      figure(`${operation}: calls one after another, (t_L − t_0) ÷ L`, `${round(depth, 2)}`, { ok: depth <= FLOOR_DEPTH + 0.25, target: `${FLOOR_DEPTH}` });
      figure(`${operation}: median ÷ (${FLOOR_DEPTH} × L)`, `${round(ratio, 2)}`, { ok: ratio <= 1.1, target: "≤ 1.10" });
      // What is left once the calls are taken away is local work (database, signing, JSON): the L = 0 median.
      figure(`${operation}: median ÷ (${FLOOR_DEPTH} × L + median at L = 0)`, `${round(atL / (FLOOR_DEPTH * LATENCY_MS + atZero), 2)}`);
      report[operation] = { atZero, atL, depth, ratio, calls: results[LATENCY_MS]!.calls[operation] };
    }
    return report;
  } finally {
    await parts.close();
    await standIns.stop();
    await database.drop();
  }
}

function describeCalls(counts: Awaited<ReturnType<Awaited<ReturnType<typeof startStandInsProcess>>["counts"]>>): string {
  const buildkite = Object.entries(counts.buildkite.byPath).map(([path, n]) => `${n}× ${path}`);
  const secrets = Object.entries(counts.secretsManager.byOperation).map(([operation, n]) => `${n}× ${operation}`);
  return `${counts.buildkite.total} Buildkite (${buildkite.join(", ")}) + ${counts.secretsManager.total} Secrets Manager (${secrets.join(", ")})`;
}
