// What the browser tests share with the global setup, through environment variables (Playwright's documented way
// to hand values from global setup to test workers).
export const e2eBackend = (process.env.E2E_SECRETS_BACKEND ?? "local") as "local" | "aws";
export const e2ePort = Number(process.env.E2E_PORT ?? (e2eBackend === "aws" ? 3211 : 3201));
export const e2eBaseUrl = `http://127.0.0.1:${e2ePort}`;

export function e2eValue(name: "E2E_DATABASE_URL" | "E2E_BUILDKITE_URL" | "E2E_SECRETS_MANAGER_URL" | "E2E_SERVER_LOG" | "E2E_DATA_DIR"): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the browser tests through e2e/playwright.config.ts`);
  return value;
}
