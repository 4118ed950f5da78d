import { defineConfig, devices } from "@playwright/test";
import { e2eBackend, e2eBaseUrl } from "./support/environment";

// Debian's Chromium (CI installs it) unless CHROMIUM_PATH names another; scripts/e2e.mjs checks it exists.
const executablePath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

// Two suites share the app and the setup: `reliability/` holds the browser rows of docs/reliability.md (authorisation,
// cross-site requests, leaks, generated API bodies), run by `npm run test:reliability`; the rest is `npm run test:e2e`.
// E2E_SUITE (set by scripts/e2e.mjs) picks one; unset, both run.
const suite = process.env.E2E_SUITE;

export default defineConfig({
  testDir: ".",
  testMatch: suite === "reliability" ? "reliability/**/*.spec.ts" : "**/*.spec.ts",
  testIgnore: suite === "main" ? "reliability/**" : undefined,
  outputDir: `../test-results/e2e-${e2eBackend}/artifacts`,
  globalSetup: "./support/global-setup.ts",
  // One app, one database: specs take turns so each sees the state it set up.
  workers: 1,
  fullyParallel: false,
  forbidOnly: Boolean(process.env.CI),
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [["list"]],
  use: {
    baseURL: e2eBaseUrl,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
  },
  projects: [
    {
      name: `chromium-${e2eBackend}`,
      use: {
        ...devices["Desktop Chrome"],
        launchOptions: {
          executablePath,
          args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        },
      },
    },
  ],
});
