// CI's newcomer check: what someone does on their first day, in this fresh clone, as the user CI runs as (root
// here). `npm start` with no configuration at all (so the embedded PostgreSQL, the local secret store, demo
// sign-in), one Buildkite connect through the browser, a restart, and the connection still there. The test suites
// never run that path: they bring their own database, data directory and settings.
//
//   node --conditions=react-server --import tsx scripts/first-run-check.ts [--allow-existing-data]
//
// It refuses a checkout that already has .data (that would not be a first start) unless given
// --allow-existing-data, and removes the .data it created, whatever the outcome.
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { chromium, type Browser, type Page } from "@playwright/test";
import { DEMO_PASSWORD } from "../lib/auth/demo-accounts";
import { findFreePort } from "../lib/runtime/instance-lock";
import { BUILDKITE_TOKENS, registerFixtures } from "../tests/support/buildkite-fixtures";
import { startBuildkiteStandIn, type BuildkiteStandIn } from "../tests/support/buildkite-stand-in";

const root = path.resolve(import.meta.dirname, "..");
const dataDir = path.join(root, ".data");
// `.data/postgres`, unless (as root, in a checkout the postgres user cannot enter) npm start says it put it elsewhere.
let clusterDir = path.join(dataDir, "postgres");
const allowExistingData = process.argv.includes("--allow-existing-data");
// The first start builds the app: a minute or two on a small machine.
const START_WITHIN_MS = 5 * 60_000;
const STOP_WITHIN_MS = 60_000;
const BROWSER_STEP_MS = 30_000;
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

class CheckFailed extends Error {}

const steps: Array<{ name: string; seconds: number }> = [];
let createdDataDir = false;
let standIn: BuildkiteStandIn | undefined;
let browser: Browser | undefined;
let app: ChildProcess | undefined;
let appStarts = 0;
const logFile = path.join(tmpdir(), `gitar-first-run-${Date.now()}.log`);
const log = createWriteStream(logFile);

async function step<T>(name: string, work: () => Promise<T>): Promise<T> {
  const began = performance.now();
  const done = (mark: string) => {
    const seconds = (performance.now() - began) / 1000;
    steps.push({ name, seconds });
    console.log(`  ${mark} ${seconds.toFixed(1).padStart(6)} s  ${name}`);
  };
  try {
    const result = await work();
    done("✓");
    return result;
  } catch (error) {
    done("✖");
    throw new CheckFailed(`${name}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function main() {
  if (existsSync(dataDir) && !allowExistingData) {
    throw new CheckFailed(
      `${dataDir} already exists, so this would not be a first start. Run it in a fresh clone, remove .data, or pass ` +
        "--allow-existing-data.",
    );
  }
  createdDataDir = !existsSync(dataDir);
  const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
  if (!existsSync(chromiumPath)) throw new CheckFailed(`No browser at ${chromiumPath}: install chromium or set CHROMIUM_PATH.`);

  console.log(`▸ first-run check: \`npm start\` with no configuration in ${root} (its output: ${logFile})`);
  standIn = await step("Buildkite stand-in started", async () => {
    const started = await startBuildkiteStandIn();
    registerFixtures(started);
    return started;
  });
  const port = await findFreePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const env = newcomerEnvironment({ BUILDKITE_API_URL: standIn.url, PORT: String(port) });

  await step(`npm start (first run: builds, creates the database) answers on ${baseUrl}/sign-in`, () =>
    startApp(env, baseUrl),
  );
  if (!existsSync(path.join(clusterDir, "PG_VERSION"))) throw new CheckFailed(`npm start created no cluster in ${clusterDir}.`);

  browser = await step("Chromium launched", () => chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_ARGS }));
  await step("signed in as admin@acme.test and connected Buildkite", async () => {
    const page = await signIn(browser!, baseUrl);
    await page.getByLabel("Buildkite API Token").fill(BUILDKITE_TOKENS.good);
    await page.getByRole("button", { name: "Connect Buildkite" }).click();
    await buildkiteCard(page).getByText("Connected", { exact: true }).waitFor({ timeout: BROWSER_STEP_MS });
    await page.context().close();
  });

  await step("Ctrl-C (SIGINT to npm start's process group) stopped everything", () => stopApp());

  await step(`npm start again answers on ${baseUrl}/sign-in`, () => startApp(env, baseUrl));
  await step("signed in again: the card still shows Connected to Acme Inc", async () => {
    const page = await signIn(browser!, baseUrl);
    const card = buildkiteCard(page);
    await card.getByText("Connected", { exact: true }).waitFor({ timeout: BROWSER_STEP_MS });
    await card.getByText("Acme Inc").first().waitFor({ timeout: BROWSER_STEP_MS });
    await page.context().close();
  });

  await step("Ctrl-C stopped everything again", () => stopApp());
}

/** This process's environment without anything that configures the app: a newcomer has set nothing. */
function newcomerEnvironment(only: Record<string, string>): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  const configures = (name: string) =>
    /^(DATABASE_|SECRETS_|AUTH_|AWS_|BUILDKITE_|NEXTAUTH_|PG)/.test(name) ||
    ["DATA_DIR", "HOST", "PORT", "NODE_ENV"].includes(name);
  for (const [name, value] of Object.entries(process.env)) if (!configures(name)) env[name] = value;
  return { ...env, ...only };
}

async function startApp(env: Record<string, string | undefined>, baseUrl: string) {
  appStarts++;
  log.write(`\n===== npm start (${new Date().toISOString()})\n`);
  // Its own process group, as in a terminal: a Ctrl-C goes to npm, the start script and Next together.
  // (Next's types make NODE_ENV a required variable; a newcomer has none.)
  const child = spawn("npm", ["start"], {
    cwd: root,
    env: env as NodeJS.ProcessEnv,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  app = child;
  for (const stream of [child.stdout, child.stderr]) {
    stream.on("data", (chunk: Buffer) => {
      log.write(chunk);
      // Its own headlines are worth seeing as they happen; the build's output is in the log file.
      for (const line of chunk.toString().split("\n")) {
        if (/^\s*[▸✖]/.test(line)) console.log(`             │ ${line.trim()}`);
        const cluster = /▸ embedded PostgreSQL \S+ on \S+, data in (.+)$/.exec(line.trim())?.[1];
        if (cluster) clusterDir = path.resolve(root, cluster);
      }
    });
  }
  const deadline = Date.now() + START_WITHIN_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`npm start exited (${child.signalCode ?? `code ${child.exitCode}`}) before serving.\n${await logTail()}`);
    }
    const response = await fetch(`${baseUrl}/sign-in`).catch(() => undefined);
    if (response?.ok) return;
    await sleep(500);
  }
  throw new Error(`the sign-in page did not answer within ${START_WITHIN_MS / 60_000} minutes.\n${await logTail()}`);
}

async function stopApp() {
  const child = app!;
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
  process.kill(-child.pid!, "SIGINT");
  const stopped = await Promise.race([exited.then(() => true), sleep(STOP_WITHIN_MS).then(() => false)]);
  if (!stopped) throw new Error(`npm start did not stop within ${STOP_WITHIN_MS / 1000} s of a SIGINT.\n${await logTail()}`);
  app = undefined;
  // 130 is the shell's "ended by SIGINT", what a Ctrl-C in a terminal gives.
  if (!(child.exitCode === 0 || child.exitCode === 130 || child.signalCode === "SIGINT")) {
    throw new Error(`npm start exited with ${child.signalCode ?? `code ${child.exitCode}`} on a SIGINT.\n${await logTail()}`);
  }
  const left = postgresServersFor(clusterDir);
  if (left.length > 0) throw new Error(`PostgreSQL still runs for ${clusterDir}: ${left.join("; ")}`);
  if (existsSync(path.join(dataDir, "instance.pid"))) throw new Error(`${path.join(dataDir, "instance.pid")} was not released.`);
}

async function signIn(browser: Browser, baseUrl: string): Promise<Page> {
  const context = await browser.newContext({ baseURL: baseUrl });
  context.setDefaultTimeout(BROWSER_STEP_MS);
  const page = await context.newPage();
  await page.goto("/sign-in");
  await page.getByLabel("Email", { exact: true }).fill("admin@acme.test");
  await page.getByLabel("Password", { exact: true }).fill(DEMO_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/settings\/integrations$/);
  return page;
}

const buildkiteCard = (page: Page) => page.getByRole("region", { name: "Buildkite" });

/** Live (not zombie) postgres processes started on `cluster`: "pid command" each. */
function postgresServersFor(cluster: string): string[] {
  const table = execFileSync("ps", ["-eo", "pid=,stat=,args="], { encoding: "utf8" });
  return table
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter(([, stat, ...args]) => stat !== undefined && !stat.startsWith("Z") && args.join(" ").includes(` -D ${cluster} `))
    .map(([pid, , ...args]) => `${pid} ${args.join(" ")}`);
}

async function logTail(lines = 40): Promise<string> {
  const text = await readFile(logFile, "utf8").catch(() => "");
  return `Last lines of npm start's output (${logFile}):\n${text.trimEnd().split("\n").slice(-lines).join("\n")}`;
}

/** Always: no browser, stand-in, app or database server outlives the check, nor the .data it created. */
async function cleanUp() {
  await browser?.close().catch(() => {});
  if (app?.pid && app.exitCode === null && app.signalCode === null) {
    try {
      process.kill(-app.pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  // A start that was killed leaves its server running (that is what the next start takes over); here, nothing
  // comes next.
  for (const line of postgresServersFor(clusterDir)) {
    try {
      process.kill(Number(line.split(" ")[0]), "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  await standIn?.close().catch(() => {});
  if (createdDataDir) {
    await rm(dataDir, { recursive: true, force: true });
    // Where npm start put the cluster outside the checkout (run as root under a private home), that goes too.
    if (!clusterDir.startsWith(dataDir + path.sep)) await rm(path.dirname(clusterDir), { recursive: true, force: true });
  }
  await new Promise<void>((resolve) => log.end(resolve));
}

let finishing = false;
async function finish(code: number, message?: string) {
  if (finishing) return;
  finishing = true;
  await cleanUp();
  const keepLog = message !== undefined && appStarts > 0;
  if (!keepLog) await rm(logFile, { force: true });
  if (message) console.error(`\n✖ first-run check failed: ${message}\n${keepLog ? `(npm start's output: ${logFile})\n` : ""}`);
  else {
    const total = steps.reduce((sum, { seconds }) => sum + seconds, 0);
    console.log(`✓ first-run check passed in ${total.toFixed(1)} s${createdDataDir ? " (.data removed)" : ""}`);
  }
  process.exit(code);
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => void finish(1, `interrupted by ${signal}`));
}

main().then(
  () => finish(0),
  (error: unknown) => finish(1, error instanceof Error ? error.message : String(error)),
);
