// Parts 2 and 3: the Integrations page against a bare page (a 404) of the same build, same server, same load, signed
// in as an admin, on the machine's Postgres; upstream calls per page view counted at the stand-ins; first-load JS of
// both pages. BENCH_PROFILE=1 also writes a CPU profile of the server under the page's load and summarises it.
import { mkdtemp, readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import autocannon from "autocannon";
import { personActor } from "../lib/audit/actor";
import { connectBuildkite } from "../lib/integrations/buildkite/connect";
import { startBenchApp } from "./support/app";
import { figure, heading, round } from "./support/measure";
import { summariseProfile } from "./support/profile";
import { benchToken, startStandInsProcess } from "./support/stand-ins";
import { BENCH_SECRETS_PREFIX, buildBenchUseCaseParts } from "./support/use-case-parts";

const PAGE = "/settings/integrations";
const BARE = "/bench-no-such-page";
const CONNECTIONS = 50;
const DURATION_S = Number(process.env.BENCH_PAGE_SECONDS ?? 10);

type Load = { rps: number; p50: number; p99: number; non2xx: number; errors: number; requests: number };

async function load(url: string, cookie: string, connections: number, seconds: number): Promise<Load> {
  const result = await autocannon({ url, connections, duration: seconds, headers: { cookie } });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    // The bare page is a 404 by design; only the Integrations page's answers are expected to be 2xx.
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    requests: result.requests.total,
  };
}

export async function benchPage(serverUrl: string) {
  const profile = process.env.BENCH_PROFILE === "1";
  heading(`Parts 2 and 3 · ${PAGE} against a bare 404 page: ${CONNECTIONS} connections, ${DURATION_S} s each, twice, taking turns`);
  const standIns = await startStandInsProcess();
  const profileDir = profile ? await mkdtemp(path.join(tmpdir(), "gitar-bench-profile-")) : undefined;
  const app = await startBenchApp({
    serverUrl,
    standIns,
    port: Number(process.env.BENCH_APP_PORT ?? 3451),
    label: "bench_page",
    env: { SECRETS_PREFIX: BENCH_SECRETS_PREFIX },
    nodeFlags: profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [],
  });
  try {
    // Acme connected, so the card shows everything a connected card shows.
    const parts = buildBenchUseCaseParts(app.database.url, standIns, { poolSize: 2 });
    const acme = await parts.db.user.findUniqueOrThrow({ where: { email: "admin@acme.test" }, select: { id: true, email: true, memberships: { select: { organizationId: true } } } });
    await standIns.register("page", 0, 1);
    const connected = await connectBuildkite(
      { organizationId: acme.memberships[0]!.organizationId, actor: personActor({ userId: acme.id, email: acme.email }), token: benchToken("page", 0) },
      parts.deps,
    );
    await parts.close();
    if (!connected.ok) throw new Error(`could not connect Acme: ${connected.failure.code}`);

    const cookie = await app.sessionCookie("admin@acme.test");
    const page = await fetch(app.url + PAGE, { headers: { cookie }, redirect: "manual" });
    const html = await page.text();
    if (page.status !== 200 || !html.includes("Integrations") || !html.includes("Connected")) {
      throw new Error(`${PAGE} answered ${page.status} without the connected card; see ${app.logFile}`);
    }
    const bare = await fetch(app.url + BARE, { headers: { cookie } });
    const bareHtml = await bare.text();
    if (bare.status !== 404) throw new Error(`${BARE} answered ${bare.status}`);

    // Part 3 first: what the browser loads before the page can run.
    const [pageJs, bareJs] = await Promise.all([firstLoadJs(app.url, html), firstLoadJs(app.url, bareHtml)]);
    figure("first-load JS, Integrations page (gzip / raw)", `${kb(pageJs.gzip)} / ${kb(pageJs.raw)} in ${pageJs.files} files`);
    figure("first-load JS, bare page (gzip / raw)", `${kb(bareJs.gzip)} / ${kb(bareJs.raw)} in ${bareJs.files} files`);
    figure("first-load JS ratio (gzip)", `${round(pageJs.gzip / bareJs.gzip, 2)}`, { ok: pageJs.gzip / bareJs.gzip <= 1.15, target: "≤ 1.15" });

    // What each view renders and writes: the HTML carries the page and, inlined, its RSC payload.
    figure("HTML document, Integrations page / bare page", `${kb(Buffer.byteLength(html))} / ${kb(Buffer.byteLength(bareHtml))}`);

    // Part 2: warm both, then take turns.
    await load(app.url + PAGE, cookie, 10, 2);
    await load(app.url + BARE, cookie, 10, 2);
    await standIns.resetLog();
    const runs: { page: Load[]; bare: Load[] } = { page: [], bare: [] };
    for (let turn = 0; turn < 2; turn += 1) {
      runs.bare.push(await load(app.url + BARE, cookie, CONNECTIONS, DURATION_S));
      runs.page.push(await load(app.url + PAGE, cookie, CONNECTIONS, DURATION_S));
    }
    const calls = await standIns.counts();
    const pageRequests = runs.page.reduce((sum, run) => sum + run.requests, 0);
    const both = (key: "page" | "bare") => ({
      rps: runs[key].reduce((sum, run) => sum + run.rps, 0) / runs[key].length,
      p99: Math.max(...runs[key].map((run) => run.p99)),
      p50: runs[key].map((run) => run.p50).sort((a, b) => a - b)[0]!,
      errors: runs[key].reduce((sum, run) => sum + run.errors, 0),
    });
    const pageLoad = both("page");
    const bareLoad = both("bare");
    figure("Integrations page: requests/s, p50, p99", `${round(pageLoad.rps)} /s, ${pageLoad.p50} ms, ${pageLoad.p99} ms`);
    figure("bare page: requests/s, p50, p99", `${round(bareLoad.rps)} /s, ${bareLoad.p50} ms, ${bareLoad.p99} ms`);
    figure("requests/s ratio", `${round(pageLoad.rps / bareLoad.rps, 2)}`, { ok: pageLoad.rps / bareLoad.rps >= 0.7, target: "≥ 0.70" });
    figure("non-2xx answers / errors on the Integrations page", `${runs.page.reduce((sum, run) => sum + run.non2xx, 0)} / ${pageLoad.errors}`);
    figure(
      `upstream calls during ${pageRequests + runs.bare.reduce((sum, run) => sum + run.requests, 0)} page views`,
      `${calls.buildkite.total} Buildkite, ${calls.secretsManager.total} Secrets Manager`,
      { ok: calls.buildkite.total + calls.secretsManager.total === 0, target: "0" },
    );

    // One connection at a time: the page's own cost, without queueing.
    const single = { page: await load(app.url + PAGE, cookie, 1, 5), bare: await load(app.url + BARE, cookie, 1, 5) };
    figure("one connection: mean latency page / bare", `${round(1000 / single.page.rps)} ms / ${round(1000 / single.bare.rps)} ms`);
    return { pageJs, bareJs, pageLoad, bareLoad, calls, single };
  } finally {
    await app.stop();
    await standIns.stop();
    if (profileDir) {
      const files = (await readdir(profileDir)).filter((file) => file.endsWith(".cpuprofile"));
      for (const file of files) {
        console.log(`\n   CPU profile of the server: ${path.join(profileDir, file)}`);
        summariseProfile(JSON.parse(await readFile(path.join(profileDir, file), "utf8")));
      }
    }
  }
}

const kb = (bytes: number) => `${round(bytes / 1024)} KiB`;

/** The scripts a page's HTML makes the browser load (`<script src>` and preloaded chunks), with their sizes. */
async function firstLoadJs(origin: string, html: string) {
  const sources = new Set<string>();
  for (const match of html.matchAll(/<script[^>]+src="([^"]+\.js[^"]*)"/g)) sources.add(match[1]!);
  for (const match of html.matchAll(/<link[^>]+rel="(?:modulepreload|preload)"[^>]+href="([^"]+\.js[^"]*)"/g)) sources.add(match[1]!);
  for (const match of html.matchAll(/<link[^>]+href="([^"]+\.js[^"]*)"[^>]+rel="(?:modulepreload|preload)"/g)) sources.add(match[1]!);
  let raw = 0;
  let gzip = 0;
  for (const source of sources) {
    const body = Buffer.from(await (await fetch(new URL(source.replaceAll("&amp;", "&"), origin))).arrayBuffer());
    raw += body.length;
    gzip += gzipSync(body).length;
  }
  return { files: sources.size, raw, gzip };
}
