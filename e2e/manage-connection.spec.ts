import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import {
  buildkiteCard,
  connectionOf,
  connectThroughPage,
  disconnectOrganization,
  freshBuildkiteToken,
  GOOD_SCENARIO,
  registerBuildkiteToken,
  revokeAtBuildkite,
  signIn,
  tokenWorksAtBuildkite,
} from "./support/app";

// An admin manages a live connection from the card: rotate (with and without revoking the old token), verify now,
// diagnostics, disconnect (with and without revoking, and "Disconnect anyway").

let current: string;

test.beforeEach(async ({ page }) => {
  await disconnectOrganization("acme");
  await signIn(page, "admin@acme.test");
  current = await freshBuildkiteToken();
  await connectThroughPage(page, current);
});

const lastFour = (token: string) => token.slice(-4);

async function expectAxeClean(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  expect(results.violations.map((violation) => `${violation.id}: ${violation.help}`)).toEqual([]);
}

async function rotate(page: Page, token: string, options: { revoke?: boolean } = {}) {
  const card = buildkiteCard(page);
  await card.getByRole("button", { name: "Rotate token" }).click();
  await card.getByLabel("New Buildkite API Token").fill(token);
  if (options.revoke) await card.getByLabel("Revoke the previous token at Buildkite").check();
  await card.getByRole("button", { name: "Replace token" }).click();
}

test("rotating keeps the old token valid unless asked, and the card shows the new token", async ({ page }) => {
  const card = buildkiteCard(page);
  const next = await freshBuildkiteToken();
  await card.getByRole("button", { name: "Rotate token" }).click();
  await expect(card.getByLabel("New Buildkite API Token")).toHaveAttribute("type", "password");
  await expect(card.getByLabel("Revoke the previous token at Buildkite")).not.toBeChecked();
  await expectAxeClean(page);
  await card.getByRole("button", { name: "Cancel" }).click();
  await expect(card.getByLabel("New Buildkite API Token")).toHaveCount(0);

  await rotate(page, next);

  await expect(card.getByRole("status").filter({ hasText: "Token replaced" })).toBeVisible();
  await expect(card.getByText(lastFour(next), { exact: true })).toBeVisible();
  await expect(card.getByText("Connected", { exact: true })).toBeVisible();
  await expect(card.getByText(/Token replaced by/)).toBeVisible();
  expect(await tokenWorksAtBuildkite(current)).toBe(true);
  expect(await tokenWorksAtBuildkite(next)).toBe(true);
  expect((await connectionOf("acme")).token_last_four).toBe(lastFour(next));
  expect(await page.content()).not.toContain(next);
});

test("rotating with “Revoke the previous token” revokes the old token at Buildkite", async ({ page }) => {
  const next = await freshBuildkiteToken();

  await rotate(page, next, { revoke: true });

  await expect(buildkiteCard(page).getByRole("status")).toContainText(`The previous token (ending in ${lastFour(current)}) was revoked at Buildkite`);
  expect(await tokenWorksAtBuildkite(current)).toBe(false);
  expect(await tokenWorksAtBuildkite(next)).toBe(true);
});

test("a rotation that cannot revoke the old token stands, and says where to revoke it by hand", async ({ page }) => {
  const next = await freshBuildkiteToken();
  await registerBuildkiteToken(current, { kind: "server_error", status: 503 });

  await rotate(page, next, { revoke: true });

  const status = buildkiteCard(page).getByRole("status").filter({ hasText: "Token replaced" });
  await expect(status).toContainText("could not be revoked at Buildkite, so it is still valid");
  await expect(status).toContainText("https://buildkite.com/user/api-access-tokens");
  expect((await connectionOf("acme")).token_last_four).toBe(lastFour(next));
});

test("rotating to the same token, or a bad one, changes nothing and says why", async ({ page }) => {
  const card = buildkiteCard(page);
  const before = await connectionOf("acme");

  await rotate(page, current);
  await expect(card.getByRole("alert")).toContainText("This token is already connected.");
  await expect(card.getByLabel("New Buildkite API Token")).toHaveAccessibleDescription(/already connected/);

  await card.getByLabel("New Buildkite API Token").fill("bkua_MTA.NeverIssuedByBuildkite0000000000");
  await card.getByRole("button", { name: "Replace token" }).click();
  await expect(card.getByRole("alert")).toContainText("Buildkite rejected this token");

  const elsewhere = await freshBuildkiteToken({ ...GOOD_SCENARIO, organizations: [{ slug: "road-runner-ops", name: "Road Runner Ops" }] });
  await card.getByLabel("New Buildkite API Token").fill(elsewhere);
  await card.getByRole("button", { name: "Replace token" }).click();
  await expect(card.getByRole("alert")).toContainText("This token cannot reach Acme Inc");

  const after = await connectionOf("acme");
  expect(after.secret_version).toBe(before.secret_version);
  expect(after.token_uuid).toBe(before.token_uuid);
});

test("Verify now confirms a working token, and flags one revoked at Buildkite", async ({ page }) => {
  const card = buildkiteCard(page);
  await card.getByRole("button", { name: "Verify now" }).click();
  await expect(card.getByRole("status").filter({ hasText: "The token works" })).toBeVisible();

  await revokeAtBuildkite(current);
  await card.getByRole("button", { name: "Verify now" }).click();

  await expect(card.getByText("Needs attention", { exact: true })).toBeVisible();
  await expect(card.getByText("Buildkite no longer accepts this token: it was revoked, or it expired.").first()).toBeVisible();
  await expect(card.getByText(/use Rotate token to replace it/).first()).toBeVisible();
  await page.reload();
  await expect(buildkiteCard(page).getByText("Needs attention", { exact: true })).toBeVisible();
  await expectAxeClean(page);

  // The fix the card suggests works: rotate to a new token.
  const next = await freshBuildkiteToken();
  await rotate(page, next);
  await expect(buildkiteCard(page).getByText("Connected", { exact: true })).toBeVisible();
});

test("Run diagnostics shows every scope and the build data checks", async ({ page }) => {
  const card = buildkiteCard(page);
  await card.getByRole("button", { name: "Run diagnostics" }).click();

  const report = card.getByRole("region", { name: /Diagnostics for Acme Inc/ });
  await expect(report).toBeVisible();
  await expect(report.getByRole("list", { name: "Scope checks" }).getByRole("listitem")).toHaveCount(9);
  await expect(report.getByRole("list", { name: "Build data checks" }).getByRole("listitem")).toHaveCount(4);
  await expect(report.getByText(/pipelines? (is|are) visible to this token/)).toBeVisible();
  await expect(report.getByText(/Latest build:/)).toBeVisible();
  await expect(report.getByText(/no repository/)).toBeVisible();
  await expect(report.getByText(/requests left this minute/)).toBeVisible();
  await expectAxeClean(page);
});

test("Disconnect asks first, revokes by default, and leaves the card ready to connect again", async ({ page }) => {
  const card = buildkiteCard(page);
  await card.getByRole("button", { name: "Disconnect" }).click();
  const dialog = page.getByRole("dialog", { name: "Disconnect Buildkite?" });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByLabel("Also revoke the token at Buildkite")).toBeChecked();
  await expectAxeClean(page);
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog).toBeHidden();
  expect(await connectionOf("acme")).not.toBeNull();

  await card.getByRole("button", { name: "Disconnect" }).click();
  await dialog.getByRole("button", { name: "Disconnect Buildkite" }).click();

  await expect(card.getByText("Not connected", { exact: true })).toBeVisible();
  await expect(card.getByRole("status").filter({ hasText: "Buildkite disconnected" })).toContainText("The token was revoked at Buildkite.");
  expect(await connectionOf("acme")).toBeNull();
  expect(await tokenWorksAtBuildkite(current)).toBe(false);

  // Connecting again right away works (with AWS, while the old secret is in its recovery window).
  await connectThroughPage(page, await freshBuildkiteToken());
});

test("Disconnect without revoking leaves the token valid at Buildkite", async ({ page }) => {
  await buildkiteCard(page).getByRole("button", { name: "Disconnect" }).click();
  const dialog = page.getByRole("dialog", { name: "Disconnect Buildkite?" });
  await dialog.getByLabel("Also revoke the token at Buildkite").uncheck();
  await dialog.getByRole("button", { name: "Disconnect Buildkite" }).click();

  await expect(buildkiteCard(page).getByText("Not connected", { exact: true })).toBeVisible();
  expect(await tokenWorksAtBuildkite(current)).toBe(true);
});

test("when revoking fails, nothing changes until the admin chooses “Disconnect anyway”", async ({ page }) => {
  await registerBuildkiteToken(current, { kind: "server_error", status: 503 });
  const card = buildkiteCard(page);
  await card.getByRole("button", { name: "Disconnect" }).click();
  const dialog = page.getByRole("dialog", { name: "Disconnect Buildkite?" });
  await dialog.getByRole("button", { name: "Disconnect Buildkite" }).click();

  await expect(dialog.getByRole("alert")).toContainText("The token could not be revoked at Buildkite");
  expect(await connectionOf("acme")).not.toBeNull();
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(card.getByText("Connected", { exact: true })).toBeVisible();

  // Opening it again starts afresh, then "Disconnect anyway" goes through.
  await card.getByRole("button", { name: "Disconnect" }).click();
  await expect(dialog.getByRole("button", { name: "Disconnect anyway" })).toHaveCount(0);
  await dialog.getByRole("button", { name: "Disconnect Buildkite" }).click();
  await dialog.getByRole("button", { name: "Disconnect anyway" }).click();

  await expect(card.getByText("Not connected", { exact: true })).toBeVisible();
  await expect(card.getByRole("status").filter({ hasText: "Buildkite disconnected" })).toContainText(
    "could not be revoked at Buildkite and is still valid there",
  );
  expect(await connectionOf("acme")).toBeNull();
});

test("the managed card works at 360 px and with the keyboard alone", async ({ page }) => {
  await page.setViewportSize({ width: 360, height: 800 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  const card = buildkiteCard(page);
  await card.getByRole("button", { name: "Disconnect" }).focus();
  await page.keyboard.press("Enter");
  const dialog = page.getByRole("dialog", { name: "Disconnect Buildkite?" });
  await expect(dialog).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
  expect(await connectionOf("acme")).not.toBeNull();
});
