import { expect, test, type Browser, type Page } from "@playwright/test";
import {
  auditEventsOf,
  buildkiteCard,
  connectionOf,
  connectThroughPage,
  disconnectOrganization,
  freshBuildkiteToken,
  INTEGRATIONS,
} from "../support/app";
import { captureActionPost, replayActionPost, signedInPage } from "../support/server-actions";

// A server action is a public POST endpoint: hiding a button protects nothing. Each management action, replayed
// with a member's session, is refused by the server, changes nothing, and is recorded in the audit log.

const capturePost = (browser: Browser, click: (page: Page) => Promise<void>) => captureActionPost(browser, INTEGRATIONS, click);

test("a member is offered none of the management actions", async ({ browser }) => {
  await disconnectOrganization("acme");
  const admin = await signedInPage(browser, "admin@acme.test");
  await connectThroughPage(admin.page, await freshBuildkiteToken());
  await admin.context.close();

  const member = await signedInPage(browser, "member@acme.test");
  const card = buildkiteCard(member.page);
  await expect(card.getByText("Connected", { exact: true })).toBeVisible();
  await expect(card.getByRole("button")).toHaveCount(0);
  await expect(member.page.getByRole("link", { name: "Audit log" })).toHaveCount(0);
  await member.page.goto("/settings/audit");
  await expect(member.page.getByText(/Only admins of Acme can see the audit log/)).toBeVisible();
  await expect(member.page.getByRole("table")).toHaveCount(0);
  await member.context.close();
});

test("a member's direct POST to rotate, verify, diagnostics and disconnect is refused and audited", async ({ browser }) => {
  // Four captured clicks and four replays, each in a page of its own: slow on a busy machine.
  test.setTimeout(180_000);
  await disconnectOrganization("acme");
  const admin = await signedInPage(browser, "admin@acme.test");
  await connectThroughPage(admin.page, await freshBuildkiteToken());
  await admin.context.close();
  const next = await freshBuildkiteToken();
  const card = (page: Page) => buildkiteCard(page);
  const posts = {
    rotate: await capturePost(browser, async (page) => {
      await card(page).getByRole("button", { name: "Rotate token" }).click();
      await card(page).getByLabel("New Buildkite API Token").fill(next);
      await card(page).getByRole("button", { name: "Replace token" }).click();
    }),
    verify: await capturePost(browser, (page) => card(page).getByRole("button", { name: "Verify now" }).click()),
    diagnostics: await capturePost(browser, (page) => card(page).getByRole("button", { name: "Run diagnostics" }).click()),
    disconnect: await capturePost(browser, async (page) => {
      await card(page).getByRole("button", { name: "Disconnect" }).click();
      await page.getByRole("dialog").getByRole("button", { name: "Disconnect Buildkite" }).click();
    }),
  };
  const before = await connectionOf("acme");
  const auditBefore = (await auditEventsOf("acme")).length;

  const member = await signedInPage(browser, "member@acme.test");
  for (const [name, post] of Object.entries(posts)) {
    expect(await replayActionPost(member.page, INTEGRATIONS, post), name).toContain("Only admins of Acme can change integrations");
  }
  await member.context.close();

  const after = await connectionOf("acme");
  expect(after.secret_version).toBe(before.secret_version);
  expect(after.revision).toBe(before.revision);
  const refusals = (await auditEventsOf("acme")).slice(auditBefore);
  expect(refusals.map((event) => [event.action, event.outcome, event.code])).toEqual([
    ["buildkite.rotate", "refused", "not_admin"],
    ["buildkite.verify", "refused", "not_admin"],
    ["buildkite.diagnostics", "refused", "not_admin"],
    ["buildkite.disconnect", "refused", "not_admin"],
  ]);

  // The admin sees them in the audit log.
  const reviewer = await signedInPage(browser, "admin@acme.test");
  await reviewer.page.goto("/settings/audit");
  // Other tests leave refusals of their own in this organisation's log, so look for these four by name.
  const refusedByMember = reviewer.page.getByRole("row").filter({ hasText: "Refused" }).filter({ hasText: "member@acme.test" });
  for (const label of ["Rotate token", "Verify connection", "Run diagnostics", "Disconnect Buildkite"]) {
    await expect(refusedByMember.filter({ hasText: label }).first()).toBeVisible();
  }
  await reviewer.context.close();
});
