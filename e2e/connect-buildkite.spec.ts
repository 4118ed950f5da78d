import AxeBuilder from "@axe-core/playwright";
import { expect, test } from "@playwright/test";
import { BUILDKITE_TOKENS } from "../tests/support/buildkite-fixtures";
import { buildkiteCard, buildkiteRequests, connectionOf, disconnectOrganization, INTEGRATIONS, signIn } from "./support/app";

const tokenField = (page: import("@playwright/test").Page) => page.getByLabel("Buildkite API Token");
const connectButton = (page: import("@playwright/test").Page) => page.getByRole("button", { name: "Connect Buildkite" });

test.beforeEach(async ({ page }) => {
  await disconnectOrganization("acme");
  await signIn(page, "admin@acme.test");
});

test("an admin connects a good token, sees its details, and still sees them after a reload", async ({ page }) => {
  const card = buildkiteCard(page);
  await expect(card.getByText("Not connected")).toBeVisible();
  const guide = card.getByRole("link", { name: "Create a token with these scopes" });
  const href = await guide.getAttribute("href");
  expect(href).toContain("https://buildkite.com/user/api-access-tokens/new?");
  for (const scope of ["read_teams", "read_artifacts", "read_builds", "read_job_env", "read_build_logs", "read_organizations", "read_pipelines", "read_user", "read_suites"]) {
    expect(href).toContain(`scopes%5B%5D=${scope}`);
  }
  await expect(tokenField(page)).toHaveAttribute("type", "password");

  await tokenField(page).fill(BUILDKITE_TOKENS.good);
  await connectButton(page).click();

  for (const view of ["after connecting", "after a reload"]) {
    await test.step(view, async () => {
      await expect(card.getByText("Connected", { exact: true })).toBeVisible();
      await expect(card.getByRole("link", { name: "Acme Inc" })).toBeVisible();
      await expect(card.getByText("Gitar Integration")).toBeVisible();
      await expect(card.getByText("Buildkite Service Account <buildkite-integration@acme.test>")).toBeVisible();
      await expect(card.getByText(BUILDKITE_TOKENS.good.slice(-4), { exact: true })).toBeVisible();
      await expect(card.getByText("Never expires")).toBeVisible();
      await expect(card.getByText("Ada Admin (admin@acme.test)")).toBeVisible();
      await expect(card.getByRole("list", { name: "Scopes this token carries" }).getByRole("listitem")).toHaveCount(9);
      await expect(tokenField(page)).toHaveCount(0);
      expect(await page.content()).not.toContain(BUILDKITE_TOKENS.good);
      await page.reload();
    });
  }
  const record = await connectionOf("acme");
  expect(record).toMatchObject({ status: "connected", buildkite_org_slug: "acme-inc", token_last_four: BUILDKITE_TOKENS.good.slice(-4) });
});

const failures = [
  {
    name: "a token Buildkite rejects",
    token: "bkua_MTA.ThisTokenWasNeverIssuedByBuildkite00",
    title: "Buildkite rejected this token",
    text: "invalid, expired or revoked",
  },
  {
    name: "a token missing scopes",
    token: BUILDKITE_TOKENS.missingScopes,
    title: "This token is missing 2 required scopes",
    text: "read_job_env and read_suites",
  },
  {
    name: "an unreachable Buildkite",
    token: BUILDKITE_TOKENS.unavailable,
    title: "Buildkite could not be reached",
    text: "Nothing was saved.",
  },
  {
    name: "a rate-limited token",
    token: BUILDKITE_TOKENS.rateLimited,
    title: "Buildkite is rate limiting this token",
    text: "Wait 42 seconds",
  },
];

for (const failure of failures) {
  test(`${failure.name} gets its own message and changes nothing`, async ({ page }) => {
    await tokenField(page).fill(failure.token);
    await connectButton(page).click();
    const alert = buildkiteCard(page).getByRole("alert");
    await expect(alert).toContainText(failure.title);
    await expect(alert).toContainText(failure.text);
    // The message is tied to the field, so a screen reader reads it with the token input.
    await expect(tokenField(page)).toHaveAccessibleDescription(new RegExp(failure.title));
    await expect(buildkiteCard(page).getByText("Not connected")).toBeVisible();
    expect(await connectionOf("acme")).toBeNull();
    await page.reload();
    await expect(buildkiteCard(page).getByText("Not connected")).toBeVisible();
  });
}

test("missing scopes are listed with a link to a token that has all nine", async ({ page }) => {
  await tokenField(page).fill(BUILDKITE_TOKENS.missingScopes);
  await connectButton(page).click();
  const alert = buildkiteCard(page).getByRole("alert");
  await expect(alert.getByRole("list", { name: "Missing scopes" }).getByRole("listitem")).toHaveText(["read_job_env", "read_suites"]);
  await expect(alert.getByRole("link", { name: "Create a token with these scopes" })).toHaveAttribute("href", /scopes%5B%5D=read_suites/);
});

test("an agent token is refused before anything is sent to Buildkite", async ({ page }) => {
  const before = (await buildkiteRequests()).length;
  await tokenField(page).fill("bkaa_agent_session_token_pasted_by_mistake");
  await connectButton(page).click();
  await expect(tokenField(page)).toHaveAttribute("aria-invalid", "true");
  await expect(buildkiteCard(page).getByRole("alert")).toContainText("agent session token");
  expect((await buildkiteRequests()).length).toBe(before);
  expect(await connectionOf("acme")).toBeNull();
});

test("an empty token asks for one", async ({ page }) => {
  await connectButton(page).click();
  await expect(buildkiteCard(page).getByRole("alert")).toHaveText("Enter your Buildkite API token.");
});

test("a token reaching several organisations asks which one to connect", async ({ page }) => {
  await tokenField(page).fill(BUILDKITE_TOKENS.severalOrganizations);
  await connectButton(page).click();
  const choices = page.getByRole("group", { name: "Which Buildkite organisation should we connect?" });
  await expect(choices.getByRole("radio")).toHaveCount(3);
  expect(await connectionOf("acme")).toBeNull();
  await choices.getByRole("radio", { name: /Acme Labs/ }).check();
  await connectButton(page).click();
  await expect(buildkiteCard(page).getByText("Connected", { exact: true })).toBeVisible();
  await expect(buildkiteCard(page).getByRole("link", { name: "Acme Labs" })).toBeVisible();
});

test("a token with more than the needed scopes connects with a warning", async ({ page }) => {
  await tokenField(page).fill(BUILDKITE_TOKENS.extraScopes);
  await connectButton(page).click();
  const card = buildkiteCard(page);
  await expect(card.getByText("Connected", { exact: true })).toBeVisible();
  await expect(card.getByText(/grants more than the product needs including write access/)).toBeVisible();
});

test("the button shows progress and cannot be pressed twice", async ({ page }) => {
  await tokenField(page).fill(BUILDKITE_TOKENS.hang);
  await connectButton(page).click();
  const pending = page.getByRole("button", { name: "Checking with Buildkite…" });
  await expect(pending).toBeDisabled();
  await expect(buildkiteCard(page).getByRole("alert")).toContainText("did not answer in time");
  await expect(connectButton(page)).toBeEnabled();
});

test("the page passes axe checks, not connected and connected", async ({ page }) => {
  const check = async () => {
    const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
    expect(results.violations.map((violation) => `${violation.id}: ${violation.help}`)).toEqual([]);
  };
  await check();
  await tokenField(page).fill("bkua_MTA.ThisTokenWasNeverIssuedByBuildkite00");
  await connectButton(page).click();
  await expect(buildkiteCard(page).getByRole("alert")).toBeVisible();
  await check();
  await tokenField(page).fill(BUILDKITE_TOKENS.goodExpiring);
  await connectButton(page).click();
  // A token expiring within 7 days connects, flagged at once (the same rule as the scheduled checks).
  await expect(buildkiteCard(page).getByText("Needs attention", { exact: true })).toBeVisible();
  await expect(buildkiteCard(page).getByText(/This token expires on/)).toBeVisible();
  await check();
});

test("works at 360 px wide and with the keyboard alone", async ({ page }) => {
  await page.setViewportSize({ width: 360, height: 800 });
  await page.goto(INTEGRATIONS);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await tokenField(page).focus();
  await page.keyboard.type(BUILDKITE_TOKENS.good);
  await page.keyboard.press("Tab");
  await expect(connectButton(page)).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(buildkiteCard(page).getByText("Connected", { exact: true })).toBeVisible();
  const connectedOverflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(connectedOverflow).toBeLessThanOrEqual(0);
});
