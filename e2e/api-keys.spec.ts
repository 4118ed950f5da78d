import { createHash } from "node:crypto";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import { auditEventsOf, signIn } from "./support/app";
import {
  API_KEY_SHAPE,
  API_KEYS,
  apiKeyCount,
  apiKeyNamed,
  callApiWithKey,
  captureApiKeysPost,
  createButton,
  createKeyThroughPage,
  DAY_MS,
  expiresField,
  insertForeignKey,
  keyNameField,
  keyRow,
  newKeyField,
  openApiKeys,
  organizationIdOf,
  replayPost,
  serverLog,
  signedInPage,
  tablesAsText,
  uniqueKeyName,
} from "./support/api-keys";
import { e2eBaseUrl } from "./support/environment";

// The API keys page: an admin creates a key, sees it once, uses it, and revokes it; a member can do none of it, even
// by POSTing the actions directly; the key itself is kept nowhere but in the one response that shows it.

const SCREENSHOTS = path.resolve(import.meta.dirname, "../test-results/api-keys-screenshots");

async function expectNoAxeViolations(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  expect(results.violations.map((violation) => `${violation.id}: ${violation.help} (${violation.nodes.map((node) => node.target).join(", ")})`)).toEqual([]);
}

async function screenshot(page: Page, name: string, fullPage = true) {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, name), fullPage });
}

const horizontalOverflow = (page: Page) =>
  page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

test("an admin creates a key, sees it once, uses it, and revokes it after confirming", async ({ page }) => {
  test.setTimeout(90_000);
  const acme = await organizationIdOf("acme");
  await page.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: e2eBaseUrl });
  await signIn(page, "admin@acme.test");
  await page.getByRole("navigation", { name: "Settings" }).getByRole("link", { name: "API keys" }).click();
  await expect(page).toHaveURL(new RegExp(`${API_KEYS}$`));
  await expect(page.getByRole("heading", { name: "API keys", level: 1 })).toBeVisible();
  await expect(page.getByRole("link", { name: "API keys" })).toHaveAttribute("aria-current", "page");
  await expect(page.getByText(/acts only within Acme/)).toBeVisible();
  await expect(expiresField(page)).toHaveValue("90d");

  const name = uniqueKeyName("terraform");
  const key = await createKeyThroughPage(page, name);
  expect(key).toMatch(API_KEY_SHAPE);
  await expect(newKeyField(page)).toHaveAttribute("readonly", "");
  await expect(newKeyField(page)).toHaveAccessibleDescription(/Copy it now: it will not be shown again\./);
  await expect(newKeyField(page)).toBeFocused();
  await page.getByRole("button", { name: "Copy", exact: true }).click();
  await expect(page.getByRole("button", { name: "Copied", exact: true })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(key);
  // The form is ready for another key.
  await expect(keyNameField(page)).toHaveValue("");

  const row = keyRow(page, name);
  await expect(row).toContainText(`${key.slice(0, 13)}…`);
  await expect(row.getByRole("cell").nth(3)).toHaveText("Never"); // last used
  await expect(row).toContainText("by Ada Admin");
  await expect(row).toContainText("Active");
  expect(page.url()).not.toContain(key);

  // The key works for the API, and the list then says when it was last used.
  const used = await callApiWithKey(key, acme);
  expect(used.status).toBe(200);
  await page.reload();
  await expect(newKeyField(page)).toHaveCount(0);
  expect(await page.content()).not.toContain(key);
  expect(JSON.stringify(await page.context().cookies())).not.toContain(key);
  expect(await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }))).not.toContain(key);
  await expect(row.getByRole("cell").nth(3)).not.toHaveText("Never");
  await expect(row.getByRole("cell").nth(3)).toContainText("UTC");
  expect((await apiKeyNamed("acme", name))!.last_used_at).not.toBeNull();

  // Revoking asks first; Cancel keeps the key.
  const revoke = row.getByRole("button", { name: `Revoke “${name}”` });
  await revoke.click();
  const dialog = page.getByRole("dialog", { name: `Revoke “${name}”?` });
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText("stop working at once");
  await expect(dialog.getByRole("button", { name: "Cancel" })).toBeFocused();
  await expectNoAxeViolations(page);
  await screenshot(page, "revoke-dialog-desktop.png", false);
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog).toBeHidden();
  await expect(row).toContainText("Active");
  expect((await apiKeyNamed("acme", name))!.revoked_at).toBeNull();
  expect((await callApiWithKey(key, acme)).status).toBe(200);

  // "Revoke key" revokes it: the row stays, greyed, with when and without a button; the API refuses the key.
  await revoke.click();
  await dialog.getByRole("button", { name: "Revoke key" }).click();
  await expect(dialog).toBeHidden();
  await expect(row).toContainText("Revoked");
  await expect(row).toContainText("UTC");
  await expect(row.getByRole("button")).toHaveCount(0);
  await expect(row).toHaveClass(/api-keys-table__row--revoked/);
  await expect(page.getByRole("status").filter({ hasText: `API key “${name}” revoked` })).toBeAttached();
  await expect(page.getByRole("heading", { name: "Keys of Acme" })).toBeFocused();
  const refused = await callApiWithKey(key, acme);
  expect(refused.status).toBe(401);
  expect(refused.body.code).toBe("invalid_api_key");
  expect((await apiKeyNamed("acme", name))!.revoked_at).not.toBeNull();

  // A key just created beside a revoked one: what the admin sees, checked by eye from the screenshot too.
  const second = uniqueKeyName("deploy pipeline");
  await createKeyThroughPage(page, second, "Never");
  await expect(keyRow(page, second)).toContainText("Never");
  await expectNoAxeViolations(page);
  await screenshot(page, "created-and-revoked-desktop.png");

  const events = (await auditEventsOf("acme")).filter((event) => event.action.startsWith("api_key."));
  expect(events.slice(-3).map((event) => [event.action, event.outcome])).toEqual([
    ["api_key.create", "success"],
    ["api_key.revoke", "success"],
    ["api_key.create", "success"],
  ]);
});

test("the expiry choice sets when the key stops working", async ({ page }) => {
  test.setTimeout(90_000);
  await signIn(page, "admin@acme.test");
  await openApiKeys(page);
  const choices: Array<{ label: string | null; days: number | null }> = [
    { label: null, days: 90 },
    { label: "In 30 days", days: 30 },
    { label: "In 1 year", days: 365 },
    { label: "Never", days: null },
  ];
  for (const choice of choices) {
    const name = uniqueKeyName(`expiry ${choice.label ?? "default"}`);
    const before = Date.now();
    await createKeyThroughPage(page, name, choice.label ?? undefined);
    const record = (await apiKeyNamed("acme", name))!;
    if (choice.days === null) {
      expect(record.expires_at).toBeNull();
      await expect(keyRow(page, name).getByRole("cell").nth(2)).toHaveText("Never");
    } else {
      const expected = before + choice.days * DAY_MS;
      expect(Math.abs(record.expires_at!.getTime() - expected)).toBeLessThan(5 * 60_000);
      const shown = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeZone: "UTC" }).format(record.expires_at!);
      await expect(keyRow(page, name).getByRole("cell").nth(2)).toHaveText(shown);
      await expect(page.getByRole("status").filter({ hasText: `It works until ${shown}` })).toBeVisible();
    }
  }
});

test("an invalid name is explained at the field, and creates nothing", async ({ page }) => {
  await signIn(page, "admin@acme.test");
  await openApiKeys(page);
  const count = await apiKeyCount("acme");

  await keyNameField(page).fill("   ");
  await createButton(page).click();
  const error = page.locator("#api-key-name-error");
  await expect(error).toHaveText(/Enter a name for the key/);
  await expect(error).toHaveAttribute("role", "alert");
  await expect(keyNameField(page)).toHaveAttribute("aria-invalid", "true");
  await expect(keyNameField(page)).toHaveAccessibleDescription(/Enter a name for the key/);

  const long = "x".repeat(101);
  await keyNameField(page).fill(long);
  await createButton(page).click();
  await expect(keyNameField(page)).toHaveAccessibleDescription(/at most 100 characters/);
  await expect(keyNameField(page)).toHaveValue(long);
  await expect(newKeyField(page)).toHaveCount(0);
  expect(await apiKeyCount("acme")).toBe(count);
  await expectNoAxeViolations(page);

  // 100 characters, with spaces around them, is fine: the name is trimmed.
  const hundred = `${uniqueKeyName("n")}${"y".repeat(100)}`.slice(0, 100);
  await createKeyThroughPage(page, `  ${hundred}  `);
  expect((await apiKeyNamed("acme", hundred))?.name).toBe(hundred);
  await expect(keyNameField(page)).not.toHaveAttribute("aria-invalid", "true");
});

test("the key is kept only as its hash and prefix: never in a table or the server's log", async ({ page }) => {
  const acme = await organizationIdOf("acme");
  await signIn(page, "admin@acme.test");
  await openApiKeys(page);
  const name = uniqueKeyName("leak check");
  const key = await createKeyThroughPage(page, name);
  expect((await callApiWithKey(key, acme)).status).toBe(200);
  await keyRow(page, name).getByRole("button", { name: `Revoke “${name}”` }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Revoke key" }).click();
  await expect(keyRow(page, name)).toContainText("Revoked");
  expect((await callApiWithKey(key, acme)).status).toBe(401);

  const record = (await apiKeyNamed("acme", name))!;
  expect(record.key_hash).toBe(createHash("sha256").update(key).digest("hex"));
  expect(record.display_prefix).toBe(key.slice(0, 13));
  const tables = await tablesAsText();
  expect(tables).toContain(record.display_prefix);
  expect(tables).not.toContain(key);
  expect(tables).not.toContain(key.slice(13));
  expect(await serverLog()).not.toContain(key.slice(13));
});

test("a member sees neither the list nor the form", async ({ page }) => {
  await signIn(page, "member@acme.test");
  await expect(page.getByRole("navigation", { name: "Settings" }).getByRole("link", { name: "API keys" })).toHaveCount(0);
  await page.goto(API_KEYS);
  await expect(page.getByRole("heading", { name: "API keys", level: 1 })).toBeVisible();
  await expect(page.getByText("Only admins of Acme can manage API keys")).toBeVisible();
  await expect(page.getByRole("table")).toHaveCount(0);
  await expect(keyNameField(page)).toHaveCount(0);
  await expect(page.getByRole("button", { name: /Create API key|Revoke/ })).toHaveCount(0);
  await expectNoAxeViolations(page);
});

test("a member's direct POST to create or revoke is refused and audited; another organisation's key is not found", async ({ browser }) => {
  test.setTimeout(120_000);
  const admin = await signedInPage(browser, "admin@acme.test");
  await openApiKeys(admin.page);
  const target = uniqueKeyName("target");
  await createKeyThroughPage(admin.page, target);
  await admin.context.close();
  const targetRecord = (await apiKeyNamed("acme", target))!;

  const attempted = uniqueKeyName("from a member");
  const posts = {
    create: await captureApiKeysPost(browser, async (page) => {
      await keyNameField(page).fill(attempted);
      await createButton(page).click();
    }),
    revoke: await captureApiKeysPost(browser, async (page) => {
      await keyRow(page, target).getByRole("button", { name: `Revoke “${target}”` }).click();
      await page.getByRole("dialog").getByRole("button", { name: "Revoke key" }).click();
    }),
  };
  expect(posts.revoke.body.toString("latin1")).toContain(targetRecord.id);
  const auditBefore = (await auditEventsOf("acme")).length;
  const keysBefore = await apiKeyCount("acme");

  const member = await signedInPage(browser, "member@acme.test");
  for (const [name, post] of Object.entries(posts)) {
    expect(await replayPost(member.page, post), name).toContain("Only admins of Acme");
  }
  await member.context.close();
  expect(await apiKeyCount("acme")).toBe(keysBefore);
  expect(await apiKeyNamed("acme", attempted)).toBeNull();
  expect((await apiKeyNamed("acme", target))!.revoked_at).toBeNull();
  const refusals = (await auditEventsOf("acme")).slice(auditBefore);
  expect(refusals.map((event) => [event.action, event.outcome, event.code])).toEqual([
    ["api_key.create", "refused", "not_admin"],
    ["api_key.revoke", "refused", "not_admin"],
  ]);

  // The admin's own replay with another organisation's key id: "no longer exists", and that key is untouched.
  const foreignName = uniqueKeyName("globex key");
  const foreignId = await insertForeignKey("globex", foreignName);
  const reviewer = await signedInPage(browser, "admin@acme.test");
  const foreignBody = Buffer.from(posts.revoke.body.toString("latin1").split(targetRecord.id).join(foreignId), "latin1");
  expect(await replayPost(reviewer.page, posts.revoke, foreignBody)).toContain("That key no longer exists");
  expect((await apiKeyNamed("globex", foreignName))!.revoked_at).toBeNull();
  // The real revoke works once; the same POST again says the key is already revoked.
  expect(await replayPost(reviewer.page, posts.revoke)).not.toContain("Only admins");
  expect((await apiKeyNamed("acme", target))!.revoked_at).not.toBeNull();
  expect(await replayPost(reviewer.page, posts.revoke)).toContain("This key is already revoked");

  // The refusals are in the audit log, by the member.
  await reviewer.page.goto("/settings/audit");
  const refusedRows = reviewer.page.getByRole("row").filter({ hasText: "Refused" }).filter({ hasText: "member@acme.test" });
  await expect(refusedRows.filter({ hasText: "Create API key" }).first()).toBeVisible();
  await expect(refusedRows.filter({ hasText: "Revoke API key" }).first()).toBeVisible();
  await reviewer.context.close();
});

test("works at 360 px wide and with the keyboard alone", async ({ page }) => {
  test.setTimeout(90_000);
  await page.setViewportSize({ width: 360, height: 800 });
  await signIn(page, "admin@acme.test");
  await openApiKeys(page);
  expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);

  // Create with the keyboard: type the name, Tab to the expiry, pick one, Tab to the button, Enter.
  const revoked = uniqueKeyName("old ci");
  await keyNameField(page).focus();
  await page.keyboard.type(revoked);
  await page.keyboard.press("Tab");
  await expect(expiresField(page)).toBeFocused();
  await page.keyboard.press("Tab");
  await expect(createButton(page)).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(newKeyField(page)).toBeFocused();
  await page.keyboard.press("Tab");
  await expect(page.getByRole("button", { name: "Copy", exact: true })).toBeFocused();

  // Revoke with the keyboard: Escape closes the dialog, Enter on "Revoke key" revokes.
  const revokeButton = keyRow(page, revoked).getByRole("button", { name: `Revoke “${revoked}”` });
  await revokeButton.focus();
  await page.keyboard.press("Enter");
  const dialog = page.getByRole("dialog");
  await expect(dialog.getByRole("button", { name: "Cancel" })).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
  await expect(revokeButton).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(dialog.getByRole("button", { name: "Cancel" })).toBeFocused();
  await page.keyboard.press("Shift+Tab");
  await expect(dialog.getByRole("button", { name: "Revoke key" })).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(keyRow(page, revoked)).toContainText("Revoked");

  const name = uniqueKeyName("deploy pipeline");
  await createKeyThroughPage(page, name, "In 30 days");
  expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
  await expectNoAxeViolations(page);
  await newKeyField(page).evaluate((field) => field.scrollIntoView({ block: "center" }));
  await screenshot(page, "created-360-new-key.png", false);
  await keyRow(page, name).scrollIntoViewIfNeeded();
  await screenshot(page, "created-360-list.png", false);
  await keyRow(page, revoked).scrollIntoViewIfNeeded();
  await screenshot(page, "revoked-360-list.png", false);
});
