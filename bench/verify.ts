// Part 5: scheduled verification at scale. 10,000 connections (and 1,000, for memory) seeded directly in Postgres
// with their secrets in the Secrets Manager stand-in, re-verified by the scheduler's own runScheduledChecks at 20 ms
// per upstream call, BUILDKITE_VERIFY_CONCURRENCY at a time. Counted at the stand-ins: calls per token (no connection
// checked twice) and the rate-limited tokens (each called once, then left until Buildkite's reset).
import { fork } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { REQUIRED_SCOPE_NAMES } from "../lib/buildkite/scopes";
import { provisionTestDatabase } from "../tests/support/test-database";
import { figure, heading, round } from "./support/measure";
import { benchToken, startStandInsProcess, type StandInsProcess } from "./support/stand-ins";
import { buildBenchUseCaseParts } from "./support/use-case-parts";

const LATENCY_MS = 20;
const SCALES = (process.env.BENCH_VERIFY_SCALES ?? "1000,10000").split(",").map(Number);
const RATE_LIMITED = 20;
/** The app's default (BUILDKITE_VERIFY_CONCURRENCY) unless the environment sets another. */
const CONCURRENCY = Number(process.env.BUILDKITE_VERIFY_CONCURRENCY ?? 16);
const POOL_SIZE = Number(process.env.DATABASE_POOL_SIZE ?? 10);
/** Secret read, then Buildkite's token and organisation together. */
const DEPTH = 2;
const CALLS = 3;

export async function benchVerify(serverUrl: string) {
  const largest = Math.max(...SCALES);
  heading(`Part 5 · scheduled verification of ${SCALES.join(" and ")} connections at ${LATENCY_MS} ms per call, concurrency ${CONCURRENCY}`);
  const database = await provisionTestDatabase("bench_verify", serverUrl);
  const standIns = await startStandInsProcess({ enforceRateLimits: true });
  const sql = new pg.Pool({ connectionString: database.url, max: 4 });
  try {
    const seeded = await seed(sql, database.url, standIns, largest);
    console.log(`   seeded ${largest} + ${RATE_LIMITED} rate-limited connections and their secrets in ${round(seeded / 1000)} s`);
    const results: Record<number, { wallMs: number; maxRssKiB: number }> = {};
    for (const scale of SCALES) {
      await sql.query(`UPDATE buildkite_connections SET next_verify_at = now() + interval '30 days'`);
      await sql.query(
        `UPDATE buildkite_connections SET next_verify_at = now() - interval '1 minute'
         WHERE buildkite_org_slug LIKE 'limited-org-%' OR (buildkite_org_slug LIKE 'verify-org-%' AND substring(buildkite_org_slug from 12)::int < $1)`,
        [scale],
      );
      await standIns.setLatency(LATENCY_MS);
      await standIns.resetLog();
      const runStartedAt = Date.now();
      const outcome = await runWorker(database.url, standIns);
      const counts = await standIns.counts();
      const due = scale + RATE_LIMITED;
      const idealByDepth = (due * DEPTH * LATENCY_MS) / CONCURRENCY;
      const idealByCalls = (due * CALLS * LATENCY_MS) / CONCURRENCY;
      results[scale] = outcome;
      const { rows: limited } = await sql.query<{ earliest: Date }>(
        `SELECT min(next_verify_at) AS earliest FROM buildkite_connections WHERE buildkite_org_slug LIKE 'limited-org-%'`,
      );
      // Measured from the run's start: the scheduler's clock stands there for the whole run (verify-worker.ts).
      const retryAfterS = (limited[0]!.earliest.getTime() - runStartedAt) / 1000;
      const { rows: notChecked } = await sql.query<{ n: number }>(
        // Due at the run's start and still due: left unchecked. (A slot that came round during the run is not.)
        `SELECT count(*)::int AS n FROM buildkite_connections WHERE next_verify_at <= $1`,
        [new Date(runStartedAt)],
      );
      console.log(`   — ${scale} connections (+ ${RATE_LIMITED} whose token Buildkite rate-limits) —`);
      figure("checked / passed / unreachable / skipped", `${outcome.run.checked} / ${outcome.run.passed} / ${outcome.run.unreachable} / ${outcome.run.skipped}`, {
        ok: outcome.run.checked === due && notChecked[0]!.n === 0,
        target: `${due} checked, none left due`,
      });
      figure("wall time", `${round(outcome.wallMs / 1000, 2)} s`);
      // The ideal is the target; ours is stricter (the three calls are two steps: the secret, then Buildkite's
      // two together), shown beside it.
      figure(`wall ÷ issue's ideal (due × ${CALLS} calls × ${LATENCY_MS} ms ÷ ${CONCURRENCY})`, `${round(outcome.wallMs / idealByCalls, 2)} (ideal ${round(idealByCalls / 1000, 2)} s)`, {
        ok: outcome.wallMs / idealByCalls <= 1.25,
        target: "≤ 1.25",
      });
      figure(`wall ÷ two-in-a-row ideal (due × ${DEPTH} × ${LATENCY_MS} ms ÷ ${CONCURRENCY})`, `${round(outcome.wallMs / idealByDepth, 2)} (ideal ${round(idealByDepth / 1000, 2)} s)`);
      figure("peak RSS of the verifying process", `${round(outcome.maxRssKiB / 1024)} MiB`);
      figure("Buildkite calls: total / tokens / most per token", `${counts.buildkite.total} / ${counts.buildkite.tokens} / ${counts.buildkite.maxPerToken}`, {
        ok: counts.buildkite.maxPerToken <= 2 && counts.buildkite.tokens === due,
        target: "each token once (2 calls)",
      });
      figure("Secrets Manager reads", `${counts.secretsManager.byOperation.GetSecretValue ?? 0}`, { ok: (counts.secretsManager.byOperation.GetSecretValue ?? 0) === due, target: `${due}` });
      figure("rate-limited tokens: calls, next check after the run's start", `${counts.buildkite.rateLimited} calls, ≥ ${round(retryAfterS)} s`, {
        ok: counts.buildkite.rateLimited <= 2 * RATE_LIMITED && retryAfterS >= 100,
        target: `≤ ${2 * RATE_LIMITED} calls, not before the 120 s reset`,
      });
    }
    if (results[1000] && results[10000]) {
      const ratio = results[10000].maxRssKiB / results[1000].maxRssKiB;
      figure("peak RSS at 10,000 ÷ at 1,000", `${round(ratio, 2)}`, { ok: ratio <= 1.3, target: "≤ 1.30" });
    }
    return results;
  } finally {
    await sql.end();
    await standIns.stop();
    await database.drop();
  }
}

/**
 * Node's flags as `npm run worker` gives them (package.json), so the process measured runs as the standalone job
 * runner does: with V8's --optimize-for-size, which keeps the heap close to what is live instead of letting it grow
 * with the allocation rate (docs/benchmarks.md, part 5).
 */
function workerNodeFlags(): string[] {
  const scripts = (JSON.parse(readFileSync(path.join(import.meta.dirname, "../package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
  const words = scripts.worker!.split(/\s+/);
  if (words[0] !== "node" || !words.includes("scripts/worker.ts")) throw new Error(`unexpected worker script: ${scripts.worker}`);
  return words.slice(1, words.indexOf("scripts/worker.ts"));
}

function runWorker(databaseUrl: string, standIns: StandInsProcess) {
  return new Promise<{ wallMs: number; maxRssKiB: number; run: { checked: number; passed: number; unreachable: number; skipped: number } }>((resolve, reject) => {
    const child = fork(
      path.join(import.meta.dirname, "support/verify-worker.ts"),
      [JSON.stringify({ databaseUrl, standIns: { ...standIns }, concurrency: CONCURRENCY, poolSize: POOL_SIZE })],
      // The app's log lines (one per check) are not the figure: dropped.
      { execArgv: workerNodeFlags(), stdio: ["ignore", "ignore", "inherit", "ipc"] },
    );
    child.once("message", (message) => resolve(message as never));
    child.once("exit", (code) => code !== 0 && reject(new Error(`the verify worker exited with ${code}`)));
  });
}

/** Organisations and connection rows in SQL; each secret written through the AWS backend (no latency). */
async function seed(sql: pg.Pool, databaseUrl: string, standIns: StandInsProcess, count: number): Promise<number> {
  const started = Date.now();
  await standIns.register("verify", 0, count);
  await standIns.register("limited", 0, RATE_LIMITED, "rate_limited");
  await standIns.setLatency(0);
  const groups = [
    { prefix: "verify", count },
    { prefix: "limited", count: RATE_LIMITED },
  ];
  const parts = buildBenchUseCaseParts(databaseUrl, standIns, { poolSize: 2 });
  try {
    for (const { prefix, count: n } of groups) {
      await sql.query(`INSERT INTO organizations (id, name, slug) SELECT gen_random_uuid(), 'Bench ' || i, '${prefix}-' || i FROM generate_series(0, $1 - 1) AS i`, [n]);
      const { rows } = await sql.query<{ id: string; slug: string }>(`SELECT id, slug FROM organizations WHERE slug LIKE '${prefix}-%'`);
      const refs: Array<{ id: string; index: number; ref: string; version: string }> = [];
      let next = 0;
      await Promise.all(
        Array.from({ length: 32 }, async () => {
          while (next < rows.length) {
            const row = rows[next++]!;
            const index = Number(row.slug.slice(prefix.length + 1));
            const written = await parts.deps.secrets.write(row.id, benchToken(prefix, index), { requestToken: randomUUID(), previous: null });
            refs.push({ id: row.id, index, ...written });
          }
        }),
      );
      for (let offset = 0; offset < refs.length; offset += 1000) {
        const batch = refs.slice(offset, offset + 1000);
        await sql.query(
          `INSERT INTO buildkite_connections (id, organization_id, status, buildkite_org_slug, buildkite_org_name, token_uuid, token_last_four,
             scopes, secret_ref, secret_version, connected_at, last_verified_at, next_verify_at, updated_at)
           SELECT gen_random_uuid(), u.id::uuid, 'connected', '${prefix}-org-' || u.index, 'Bench ' || u.index, gen_random_uuid()::text,
             right(u.token, 4), $5::text[], u.ref, u.version, now(), now(), now() + interval '30 days', now()
           FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $6::text[]) AS u(id, index, ref, version, token)`,
          [batch.map((r) => r.id), batch.map((r) => r.index), batch.map((r) => r.ref), batch.map((r) => r.version), [...REQUIRED_SCOPE_NAMES], batch.map((r) => benchToken(prefix, r.index))],
        );
      }
    }
  } finally {
    await parts.close();
  }
  return Date.now() - started;
}
