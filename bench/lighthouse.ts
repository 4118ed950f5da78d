// Part 4: Lighthouse (the npm package) in the machine's Chromium, on the signed-in Integrations page and on the sign-in
// page: performance, accessibility and best practices, with the audits that cost points named. Beside them, in the same
// run, a bare page of the same build (a 404, as in part 2): what the framework alone scores on this machine.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { startBenchApp } from "./support/app";
import { figure, heading } from "./support/measure";
import { startStandInsProcess } from "./support/stand-ins";

const root = path.resolve(import.meta.dirname, "..");
const CATEGORIES = ["performance", "accessibility", "best-practices"] as const;

type Report = {
  categories: Record<string, { score: number | null; auditRefs: Array<{ id: string; weight: number }> }>;
  audits: Record<string, { score: number | null; title: string; scoreDisplayMode: string; numericValue?: number; numericUnit?: string }>;
};

export async function benchLighthouse(serverUrl: string) {
  heading("Part 4 · Lighthouse (mobile preset, simulated throttling) on the Integrations page and the sign-in page");
  const chrome = [process.env.CHROME_PATH, process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"].find((candidate) => candidate && existsSync(candidate));
  if (!chrome) {
    console.log("   No Chromium found (set CHROME_PATH): skipped.");
    return null;
  }
  const standIns = await startStandInsProcess();
  const app = await startBenchApp({ serverUrl, standIns, port: Number(process.env.BENCH_APP_PORT ?? 3451), label: "bench_lighthouse" });
  const outDir = await mkdtemp(path.join(tmpdir(), "gitar-bench-lighthouse-"));
  const results: Record<string, Record<string, number | null>> = {};
  try {
    const cookie = await app.sessionCookie("admin@acme.test");
    for (const [name, pagePath, headers, reference] of [
      ["Integrations (signed in)", "/settings/integrations", { cookie }, false],
      ["sign-in", "/sign-in", {}, false],
      // The 404's own console error costs it best practices; its performance is the figure to compare with.
      ["bare 404 page (reference)", "/bench-no-such-page", { cookie }, true],
    ] as const) {
      const output = path.join(outDir, `${pagePath.replaceAll("/", "_")}.json`);
      const run = spawnSync(
        path.join(root, "node_modules/.bin/lighthouse"),
        [
          app.url + pagePath,
          `--only-categories=${CATEGORIES.join(",")}`,
          "--output=json",
          `--output-path=${output}`,
          "--quiet",
          ...(reference ? ["--ignore-status-code"] : []),
          `--extra-headers=${JSON.stringify(headers)}`,
          "--chrome-flags=--headless=new --no-sandbox --disable-gpu --disable-background-networking --disable-component-update --disable-sync",
        ],
        { env: { ...process.env, CHROME_PATH: chrome }, stdio: ["ignore", "ignore", "inherit"], timeout: 180_000 },
      );
      if (run.status !== 0) throw new Error(`lighthouse failed on ${pagePath} (${run.status})`);
      const report = JSON.parse(await readFile(output, "utf8")) as Report;
      results[name] = {};
      for (const category of CATEGORIES) {
        const score = report.categories[category]?.score ?? null;
        results[name]![category] = score === null ? null : Math.round(score * 100);
        const lost = report.categories[category]!.auditRefs
          .filter((ref) => ref.weight > 0 && (report.audits[ref.id]?.score ?? 1) < 1 && report.audits[ref.id]?.scoreDisplayMode !== "notApplicable")
          .map((ref) => {
            const audit = report.audits[ref.id]!;
            const value = audit.numericUnit === "millisecond" && audit.numericValue !== undefined ? `, ${Math.round(audit.numericValue)} ms` : "";
            return `${ref.id} (${audit.score}${value})`;
          });
        figure(
          `${name}: ${category}`,
          `${results[name]![category]}${lost.length ? `  — below 1: ${lost.join(", ")}` : ""}`,
          reference ? undefined : { ok: results[name]![category] === 100, target: "100" },
        );
      }
    }
    return results;
  } finally {
    await app.stop();
    await standIns.stop();
    if (!process.env.BENCH_KEEP_LOGS) await rm(outDir, { recursive: true, force: true });
  }
}
