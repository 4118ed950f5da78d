// Part 6: many organisations at once. 200 organisations, each with its own admin API key and its own Buildkite
// token, connect concurrently through the app's API (PUT …/integrations/buildkite) at 20 ms per upstream call.
// All must succeed; p50/p99 shown next to one connect alone on the same server, and the limits named.
import { randomUUID } from "node:crypto";
import { personActor } from "../lib/audit/actor";
import { createApiKey } from "../lib/api-keys/api-keys";
import { createDb } from "../lib/db/client";
import { startBenchApp } from "./support/app";
import { figure, heading, median, percentile, round } from "./support/measure";
import { benchToken, startStandInsProcess } from "./support/stand-ins";
import { createOrganization } from "./support/use-case-parts";

const ORGANIZATIONS = Number(process.env.BENCH_ORGANIZATIONS ?? 200);
const LATENCY_MS = 20;

export async function benchOrganizations(serverUrl: string) {
  const poolSize = Number(process.env.DATABASE_POOL_SIZE ?? 10);
  heading(`Part 6 · ${ORGANIZATIONS} organisations connecting at once through the API, ${LATENCY_MS} ms per upstream call, DATABASE_POOL_SIZE ${poolSize}`);
  const standIns = await startStandInsProcess();
  const app = await startBenchApp({
    serverUrl,
    standIns,
    port: Number(process.env.BENCH_APP_PORT ?? 3451),
    label: "bench_orgs",
    env: { DATABASE_POOL_SIZE: String(poolSize) },
  });
  try {
    const db = createDb(app.database.url, 4);
    const tenants: Array<{ organizationId: string; key: string; token: string }> = [];
    await standIns.register("orgs", 0, ORGANIZATIONS + 3);
    for (let index = 0; index < ORGANIZATIONS + 3; index += 1) {
      const org = await createOrganization(db, "orgs");
      const { key } = await createApiKey(db, { organizationId: org.organizationId, actor: personActor(org), name: "bench", expiresAt: null });
      tenants.push({ organizationId: org.organizationId, key, token: benchToken("orgs", index) });
    }
    await db.$disconnect();
    await standIns.setLatency(LATENCY_MS);

    const connect = async (tenant: (typeof tenants)[number]) => {
      const started = performance.now();
      const response = await fetch(`${app.url}/api/v1/organizations/${tenant.organizationId}/integrations/buildkite`, {
        method: "PUT",
        headers: { authorization: `Bearer ${tenant.key}`, "content-type": "application/json", "idempotency-key": randomUUID() },
        body: JSON.stringify({ token: tenant.token }),
      });
      const body = (await response.json()) as { code?: string };
      return { ms: performance.now() - started, status: response.status, code: body.code };
    };

    // Two to warm the server (first compile of the route, first SDK call), then one alone: the same work with
    // nothing to wait for.
    await connect(tenants.pop()!);
    await connect(tenants.pop()!);
    const alone = await connect(tenants.pop()!);
    await standIns.resetLog();
    const started = performance.now();
    const results = await Promise.all(tenants.map(connect));
    const wallMs = performance.now() - started;
    const calls = await standIns.counts();
    const times = results.map((result) => result.ms);
    const failures = results.filter((result) => result.status !== 201);
    const byCode = failures.reduce<Record<string, number>>((acc, failure) => {
      const key = `${failure.status} ${failure.code ?? ""}`.trim();
      acc[key] = (acc[key] ?? 0) + 1;
      return acc;
    }, {});
    figure("one connect alone", `${round(alone.ms)} ms (${alone.status})`);
    figure(`${ORGANIZATIONS} at once: succeeded`, `${ORGANIZATIONS - failures.length}${failures.length ? ` — failed: ${JSON.stringify(byCode)}` : ""}`, {
      ok: failures.length === 0,
      target: `${ORGANIZATIONS}`,
    });
    figure(`${ORGANIZATIONS} at once: p50 / p99 / wall`, `${round(median(times))} ms / ${round(percentile(times, 99))} ms / ${round(wallMs)} ms`);
    figure("p50 ÷ one alone", `${round(median(times) / alone.ms, 1)}`);
    figure("connects per second, all together", `${round((ORGANIZATIONS * 1000) / wallMs)}`);
    figure("upstream calls", `${calls.buildkite.total} Buildkite, ${calls.secretsManager.total} Secrets Manager (${JSON.stringify(calls.secretsManager.byOperation)})`);
    return { alone: alone.ms, p50: median(times), p99: percentile(times, 99), wallMs, failures: byCode };
  } finally {
    await app.stop();
    await standIns.stop();
  }
}
