import { expect, test, type Browser, type Request } from "@playwright/test";
import { BUILDKITE_TOKENS } from "../../tests/support/buildkite-fixtures";
import { buildkiteCard, connectionOf, disconnectOrganization, INTEGRATIONS, signIn, withDatabase } from "../support/app";

async function signedInPage(browser: Browser, email: string) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, email);
  return { context, page };
}

/** Captures the exact POST the admin's form makes for the connect action, without letting it reach the server. */
async function captureConnectPost(browser: Browser, token: string) {
  const { context, page } = await signedInPage(browser, "admin@acme.test");
  let captured: Request | undefined;
  await page.route(`**${INTEGRATIONS}`, async (route) => {
    if (route.request().method() === "POST") {
      captured = route.request();
      await route.abort();
    } else {
      await route.continue();
    }
  });
  await page.getByLabel("Buildkite API Token").fill(token);
  await page.getByRole("button", { name: "Connect Buildkite" }).click();
  await expect.poll(() => captured).toBeDefined();
  const request = captured!;
  const headers = await request.allHeaders();
  const post = { headers: { ...headers }, body: request.postDataBuffer()! };
  await context.close();
  return post;
}

test.beforeEach(async () => {
  await disconnectOrganization("acme");
  await disconnectOrganization("globex");
});

test("a member sees the status read-only, with nothing to change it", async ({ browser }) => {
  const { context, page } = await signedInPage(browser, "member@acme.test");
  const card = buildkiteCard(page);
  await expect(card.getByText("Not connected", { exact: true })).toBeVisible();
  await expect(card.getByText(/Only an admin can connect it/)).toBeVisible();
  await expect(page.getByLabel("Buildkite API Token")).toHaveCount(0);
  await expect(card.getByRole("button")).toHaveCount(0);
  await context.close();

  const admin = await signedInPage(browser, "admin@acme.test");
  await admin.page.getByLabel("Buildkite API Token").fill(BUILDKITE_TOKENS.good);
  await admin.page.getByRole("button", { name: "Connect Buildkite" }).click();
  await expect(buildkiteCard(admin.page).getByText("Connected", { exact: true })).toBeVisible();
  await admin.context.close();

  const member = await signedInPage(browser, "member@acme.test");
  const connected = buildkiteCard(member.page);
  await expect(connected.getByText("Connected", { exact: true })).toBeVisible();
  await expect(connected.getByText("Acme Inc")).toBeVisible();
  await expect(connected.getByRole("button")).toHaveCount(0);
  await expect(member.page.getByRole("textbox")).toHaveCount(0);
  await member.context.close();
});

const acmeAuditEvents = () =>
  withDatabase(async (client) => {
    const { rows } = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM audit_events a JOIN organizations o ON o.id = a.organization_id WHERE o.slug = 'acme'`,
    );
    return rows[0]!.n;
  });

test("a member's direct POST to the connect action is refused, changes nothing, and is audited", async ({ browser }) => {
  const post = await captureConnectPost(browser, BUILDKITE_TOKENS.good);
  const auditBefore = await acmeAuditEvents();
  const { context, page } = await signedInPage(browser, "member@acme.test");
  const cookies = (await context.cookies()).map((cookie) => `${cookie.name}=${cookie.value}`).join("; ");
  const response = await page.request.post(INTEGRATIONS, { headers: { ...post.headers, cookie: cookies }, data: post.body });
  const body = await response.text();
  expect(body).toContain("Only admins of Acme can change integrations");
  expect(await connectionOf("acme")).toBeNull();
  // The refusal itself is recorded: who tried what, never the token.
  expect(await acmeAuditEvents()).toBe(auditBefore + 1);
  const last = await withDatabase(async (client) => {
    const { rows } = await client.query(
      `SELECT a.action, a.outcome, a.code, a.actor_email, a.detail::text AS detail FROM audit_events a
       JOIN organizations o ON o.id = a.organization_id WHERE o.slug = 'acme' ORDER BY a.created_at DESC LIMIT 1`,
    );
    return rows[0];
  });
  expect(last).toMatchObject({ action: "buildkite.connect", outcome: "refused", code: "not_admin", actor_email: "member@acme.test" });
  expect(JSON.stringify(last)).not.toContain(BUILDKITE_TOKENS.good);
  await context.close();
});

test("a signed-out direct POST to the connect action is refused", async ({ browser, playwright }) => {
  const post = await captureConnectPost(browser, BUILDKITE_TOKENS.good);
  const anonymous = await playwright.request.newContext({ baseURL: test.info().project.use.baseURL });
  const headers = Object.fromEntries(Object.entries(post.headers).filter(([name]) => name !== "cookie"));
  const response = await anonymous.post(INTEGRATIONS, { headers, data: post.body });
  expect(await response.text()).toContain("Your session has ended");
  expect(await connectionOf("acme")).toBeNull();
  await anonymous.dispose();
});

test("another organisation's admin cannot reach Acme's connection, and sees their own status", async ({ browser }) => {
  const post = await captureConnectPost(browser, BUILDKITE_TOKENS.extraScopes);
  const admin = await signedInPage(browser, "admin@acme.test");
  await admin.page.getByLabel("Buildkite API Token").fill(BUILDKITE_TOKENS.good);
  await admin.page.getByRole("button", { name: "Connect Buildkite" }).click();
  await expect(buildkiteCard(admin.page).getByText("Connected", { exact: true })).toBeVisible();
  await admin.context.close();
  const acmeBefore = await connectionOf("acme");

  const globex = await signedInPage(browser, "admin@globex.test");
  await expect(buildkiteCard(globex.page).getByText("Not connected", { exact: true })).toBeVisible();
  await expect(globex.page.getByText("Acme Inc")).toHaveCount(0);

  // Replaying Acme's admin's request with Globex's session acts on Globex (the organisation comes from the
  // session, never from the request), so Acme's connection is untouched.
  const cookies = (await globex.context.cookies()).map((cookie) => `${cookie.name}=${cookie.value}`).join("; ");
  await globex.page.request.post(INTEGRATIONS, { headers: { ...post.headers, cookie: cookies }, data: post.body });
  const acmeAfter = await connectionOf("acme");
  expect(acmeAfter.token_uuid).toBe(acmeBefore.token_uuid);
  expect(acmeAfter.secret_version).toBe(acmeBefore.secret_version);
  await globex.context.close();
});
