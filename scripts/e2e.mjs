// Runs the browser tests twice — with the local secret store and with the AWS backend against the Secrets
// Manager stand-in — in a real Chromium.
//
// Playwright cannot download its own browsers on machines without internet, so we use an installed Chromium:
// CHROMIUM_PATH, or Debian's /usr/bin/chromium (`apt-get install chromium`). Without one, the browser tests are
// skipped with a loud notice so `npm test` still runs everything else on a machine that has only Node and npm;
// under CI (CI=true) a missing browser is a failure, because CI must run them.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const candidates = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];
const browser = candidates.find((candidate) => candidate && existsSync(candidate));

if (!browser) {
  const notice = "No Chromium found (set CHROMIUM_PATH, or `apt-get install chromium`): browser tests NOT run.";
  if (process.env.CI) {
    console.error(`✖ ${notice}`);
    process.exit(1);
  }
  console.warn(`\n⚠ ${notice}\n`);
  process.exit(0);
}

// `--suite main` (npm run test:e2e) or `--suite reliability` (the browser rows of npm run test:reliability); the
// other arguments name backends.
const args = process.argv.slice(2);
const suiteAt = args.indexOf("--suite");
const suite = suiteAt === -1 ? undefined : args.splice(suiteAt, 2)[1];
const backends = args.length > 0 ? args : ["local", "aws"];
for (const backend of backends) {
  console.log(`\n▸ ${suite === "reliability" ? "browser reliability tests" : "browser tests"} with the ${backend} secret store (${browser})`);
  const result = spawnSync("playwright", ["test", "--config", "e2e/playwright.config.ts"], {
    stdio: "inherit",
    env: { ...process.env, CHROMIUM_PATH: browser, E2E_SECRETS_BACKEND: backend, NEXT_TELEMETRY_DISABLED: "1", ...(suite ? { E2E_SUITE: suite } : {}) },
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
