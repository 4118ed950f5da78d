import AxeBuilder from "@axe-core/playwright";
import { expect, test } from "@playwright/test";
import { DEMO_PASSWORD } from "../lib/auth/demo-accounts";
import { e2eBaseUrl } from "./support/environment";
import { INTEGRATIONS, signIn } from "./support/app";

test("signed out, the integrations page sends you to sign in, which shows demo mode and its accounts", async ({ page }) => {
  await page.goto(INTEGRATIONS);
  await expect(page).toHaveURL(/\/sign-in\?callbackUrl=%2Fsettings%2Fintegrations|\/sign-in\?callbackUrl=\/settings\/integrations/);
  await expect(page.getByRole("note")).toContainText("Demo mode");
  const accounts = page.getByRole("region", { name: "Demo accounts" });
  await expect(accounts.getByRole("row")).toHaveCount(4);
  for (const email of ["admin@acme.test", "member@acme.test", "admin@globex.test"]) {
    await expect(accounts.getByText(email)).toBeVisible();
  }
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  expect(results.violations.map((violation) => violation.id)).toEqual([]);
});

test("a wrong password is refused with a message tied to the form", async ({ page }) => {
  await page.goto("/sign-in");
  await page.getByLabel("Email", { exact: true }).fill("admin@acme.test");
  await page.getByLabel("Password", { exact: true }).fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("main").getByRole("alert")).toHaveText(
    "That email and password do not match an account. Check them and try again.",
  );
  await expect(page.getByLabel("Password", { exact: true })).toHaveAccessibleDescription(/do not match an account/);
  await expect(page).toHaveURL(/\/sign-in/);
});

test("signing in shows who you are and where; signing out ends the session", async ({ page }) => {
  await signIn(page, "member@acme.test");
  await expect(page.getByRole("banner")).toContainText("Acme");
  await expect(page.getByRole("banner")).toContainText("Max Member");
  await expect(page.getByRole("banner")).toContainText("Member");
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/sign-in/);
  await page.goto(INTEGRATIONS);
  await expect(page).toHaveURL(/\/sign-in/);
});

test("the sign-in page fits a 360 px screen", async ({ page }) => {
  await page.setViewportSize({ width: 360, height: 800 });
  await page.goto("/sign-in");
  await expect(page.getByRole("region", { name: "Demo accounts" })).toBeVisible();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
});

// The open redirect a security review found: both sent a person who signed in to http://evil.test/ in Chromium.
for (const callbackUrl of ["/\\evil.test", "/%09/evil.test"]) {
  test(`signing in with callbackUrl=${callbackUrl} lands on this site`, async ({ page }) => {
    const elsewhere: string[] = [];
    page.on("request", (request) => {
      if (new URL(request.url()).origin !== e2eBaseUrl) elsewhere.push(request.url());
    });
    await page.goto(`/sign-in?callbackUrl=${callbackUrl}`);
    await page.getByLabel("Email", { exact: true }).fill("member@acme.test");
    await page.getByLabel("Password", { exact: true }).fill(DEMO_PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(`${e2eBaseUrl}${INTEGRATIONS}`);
    await expect(page.getByRole("banner")).toContainText("Max Member");
    expect(elsewhere).toEqual([]);
    // Signed in already, the sign-in page sends them on, and again only to this site.
    await page.goto(`/sign-in?callbackUrl=${callbackUrl}`);
    await expect(page).toHaveURL(`${e2eBaseUrl}${INTEGRATIONS}`);
    expect(elsewhere).toEqual([]);
  });
}

test("signing in with an allowed callbackUrl goes there, query string included", async ({ page }) => {
  await page.goto(`/sign-in?callbackUrl=${encodeURIComponent("/settings/audit?action=connect")}`);
  await page.getByLabel("Email", { exact: true }).fill("admin@acme.test");
  await page.getByLabel("Password", { exact: true }).fill(DEMO_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(`${e2eBaseUrl}/settings/audit?action=connect`);
});
