import path from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { startApp, type AppProcess } from "./support/app-process";
import {
  buildkiteCard,
  connectionOf,
  connectThroughPage,
  disconnectOrganization,
  freshBuildkiteToken,
  INTEGRATIONS,
  signIn,
} from "./support/app";
import { e2eBackend, e2eBaseUrl, e2ePort } from "./support/environment";
import { captureActionPost, replayActionPost } from "./support/server-actions";

// A deployment runs several instances of one build behind a load balancer, on one database and one secret store,
// with one AUTH_SECRET (README: "Running several instances"). A second instance of the app starts beside the one the
// suite runs, with the same settings and build: a session made on one is honoured by the other, a connection made
// on one is rotated on the other, each reads what the other stored, and a server action from a page one served is
// carried out by the other.

let second: AppProcess;

test.describe.configure({ mode: "serial" });

test.beforeAll(async () => {
  test.setTimeout(300_000);
  const env = JSON.parse(process.env.E2E_APP_ENV!) as NodeJS.ProcessEnv;
  const logFile = path.resolve(import.meta.dirname, "..", "test-results", `e2e-${e2eBackend}`, "server-second-instance.log");
  second = await startApp({ ...env, PORT: String(e2ePort + 50) }, logFile);
});

test.afterAll(async () => {
  await second?.stop();
});

const lastFour = (token: string) => token.slice(-4);

async function rotate(page: Page, token: string) {
  const card = buildkiteCard(page);
  await card.getByRole("button", { name: "Rotate token" }).click();
  await card.getByLabel("New Buildkite API Token").fill(token);
  await card.getByRole("button", { name: "Replace token" }).click();
}

test("signed in on one instance, an admin connects there and rotates on the other; each reads what the other stored", async ({ page }) => {
  await disconnectOrganization("acme");
  await signIn(page, "admin@acme.test");
  const first = await freshBuildkiteToken();
  await connectThroughPage(page, first);

  // The other instance: same session cookie (cookies belong to the host, whatever the port), same connection.
  await page.goto(`${second.url}${INTEGRATIONS}`);
  const card = buildkiteCard(page);
  await expect(card.getByText("Connected", { exact: true })).toBeVisible();
  await expect(card.getByText(lastFour(first), { exact: true })).toBeVisible();

  const next = await freshBuildkiteToken();
  await rotate(page, next);
  await expect(card.getByRole("status").filter({ hasText: "Token replaced" })).toBeVisible();
  expect((await connectionOf("acme")).token_last_four).toBe(lastFour(next));

  // Back on the first: it reads the token the second stored, and Buildkite accepts it.
  await page.goto(`${e2eBaseUrl}${INTEGRATIONS}`);
  await expect(card.getByText(lastFour(next), { exact: true })).toBeVisible();
  await card.getByRole("button", { name: "Verify now" }).click();
  await expect(card.getByRole("status").filter({ hasText: "The token works" })).toBeVisible();
});

test("a server action from a page one instance served is carried out by the other", async ({ browser, page }) => {
  await disconnectOrganization("acme");
  await signIn(page, "admin@acme.test");
  await connectThroughPage(page, await freshBuildkiteToken());
  const before = await connectionOf("acme");

  // The rotate POST an admin's click makes on the first instance's page, sent to the second instead, as a load
  // balancer might. The Host stays the public one (the first's): the browser addressed that name.
  const next = await freshBuildkiteToken();
  const post = await captureActionPost(browser, INTEGRATIONS, (admin) => rotate(admin, next));
  const answer = await replayActionPost(page, `${second.url}${INTEGRATIONS}`, {
    ...post,
    headers: { ...post.headers, host: new URL(e2eBaseUrl).host },
  });
  // The action's own answer (its form state), beside the page it rendered after the change.
  expect(answer).toContain(`{"status":"rotated"`);
  expect(answer).not.toContain(next);

  const after = await connectionOf("acme");
  expect(after.token_last_four).toBe(lastFour(next));
  expect(after.revision).toBeGreaterThan(before.revision);
});
