import AxeBuilder from "@axe-core/playwright";
import { expect, test } from "@playwright/test";
import { buildkiteCard, connectThroughPage, disconnectOrganization, freshBuildkiteToken, signIn } from "./support/app";

// The audit log an admin reads: every change and every failed or refused attempt, newest first, with who, when,
// the outcome and the token's UUID and last four — never the token.

test("an admin finds what happened in the audit log, filters it by action, and never sees a token", async ({ page }) => {
  await disconnectOrganization("acme");
  await signIn(page, "admin@acme.test");
  const first = await freshBuildkiteToken();
  const second = await freshBuildkiteToken();
  await connectThroughPage(page, first);
  const card = buildkiteCard(page);
  await card.getByRole("button", { name: "Rotate token" }).click();
  await card.getByLabel("New Buildkite API Token").fill(second);
  await card.getByLabel("Revoke the previous token at Buildkite").check();
  await card.getByRole("button", { name: "Replace token" }).click();
  await expect(card.getByRole("status").filter({ hasText: "Token replaced" })).toBeVisible();
  await card.getByRole("button", { name: "Verify now" }).click();
  await expect(card.getByRole("status").filter({ hasText: "The token works" })).toBeVisible();

  await page.getByRole("navigation", { name: "Settings" }).getByRole("link", { name: "Audit log" }).click();
  await expect(page).toHaveURL(/\/settings\/audit$/);
  await expect(page.getByRole("heading", { name: "Audit log", level: 1 })).toBeVisible();
  await expect(page.getByRole("link", { name: "Audit log" })).toHaveAttribute("aria-current", "page");
  const rows = page.getByRole("table").getByRole("row");
  // Newest first: the verify, the revoke of the old token, the rotation, then the connect.
  await expect(rows.nth(1)).toContainText("Verify connection");
  await expect(rows.nth(1)).toContainText("Passed");
  await expect(rows.nth(2)).toContainText("Revoke token at Buildkite");
  await expect(rows.nth(2)).toContainText(`Token ending in ${first.slice(-4)}`);
  await expect(rows.nth(3)).toContainText("Rotate token");
  await expect(rows.nth(3)).toContainText(`Replaced token ending in ${first.slice(-4)} with token ending in ${second.slice(-4)}`);
  await expect(rows.nth(3)).toContainText("admin@acme.test");
  const html = await page.content();
  expect(html).not.toContain(first);
  expect(html).not.toContain(second);

  await page.getByLabel("Action").selectOption({ label: "Rotate token" });
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/action=buildkite.rotate/);
  const filtered = page.getByRole("table").locator("tbody").getByRole("row");
  await expect(filtered.first()).toContainText("Rotate token");
  for (const text of await filtered.allInnerTexts()) expect(text).toContain("Rotate token");

  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  expect(results.violations.map((violation) => `${violation.id}: ${violation.help}`)).toEqual([]);
});
