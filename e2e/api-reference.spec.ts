import AxeBuilder from "@axe-core/playwright";
import { expect, test, type BrowserContext, type Page } from "@playwright/test";
import { signIn, withDatabase } from "./support/app";

// The API reference an admin reads under Settings: every operation of the OpenAPI document with its problem codes,
// the organisation's id to copy, the raw document; rendered on the server, so it needs no script and asks no other
// host for anything. A member is told it is for admins, and sees none of it.

const REFERENCE = "/settings/api-reference";
const WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

const OPERATIONS = [
  { method: "GET", path: "/api/v1/organizations/{organizationId}/integrations/buildkite", summary: "The Buildkite connection's status and details" },
  { method: "PUT", path: "/api/v1/organizations/{organizationId}/integrations/buildkite", summary: "Connect Buildkite, or rotate the token when connected" },
  { method: "DELETE", path: "/api/v1/organizations/{organizationId}/integrations/buildkite", summary: "Disconnect Buildkite, revoking the token at Buildkite first (unless told not to)" },
  { method: "POST", path: "/api/v1/organizations/{organizationId}/integrations/buildkite/verify", summary: "Check the stored token with Buildkite now" },
  { method: "POST", path: "/api/v1/organizations/{organizationId}/integrations/buildkite/diagnostics", summary: "One call per required scope, and the build-data checks (about ten calls to Buildkite)" },
  { method: "GET", path: "/api/v1/organizations/{organizationId}/audit-events", summary: "The audit log, newest first, a page at a time" },
] as const;

/** Every URL the page asks for, from the first navigation on. */
function recordRequests(context: BrowserContext): string[] {
  const urls: string[] = [];
  context.on("request", (request) => urls.push(request.url()));
  return urls;
}

const acmeId = () =>
  withDatabase(async (client) => (await client.query<{ id: string }>(`SELECT id FROM organizations WHERE slug = 'acme'`)).rows[0]!.id);

async function expectNoHorizontalScroll(page: Page) {
  const { scrollWidth, clientWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
  }));
  expect(scrollWidth).toBeLessThanOrEqual(clientWidth);
}

test("an admin reads every operation and its problem codes, copies the organisation id, and fetches the raw document", async ({ browser, baseURL }) => {
  // A long page checked piece by piece, and an accessibility scan of all of it: on a busy machine this takes a while.
  test.slow();
  const context = await browser.newContext();
  const requests = recordRequests(context);
  const page = await context.newPage();
  await signIn(page, "admin@acme.test");
  // From here on, not one error in the console (a refused script or style would say so there).
  const consoleErrors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error" && !message.location().url.endsWith("/favicon.ico")) consoleErrors.push(message.text());
  });
  await page.getByRole("navigation", { name: "Settings" }).getByRole("link", { name: "API reference" }).click();
  await expect(page).toHaveURL(new RegExp(`${REFERENCE}$`));
  await expect(page.getByRole("heading", { name: "API reference", level: 1 })).toBeVisible();
  await expect(page.getByText("Settings", { exact: true }).first()).toBeVisible();
  await expect(page.getByRole("link", { name: "API reference" })).toHaveAttribute("aria-current", "page");

  // Authentication, and the organisation's own id.
  await expect(page.getByRole("heading", { name: "Authentication" })).toBeVisible();
  await expect(page.getByText("Authorization: Bearer gitar_ak_…")).toBeVisible();
  await expect(page.getByRole("link", { name: "Settings → API keys" })).toHaveAttribute("href", "/settings/api-keys");
  await expect(page.getByText(await acmeId(), { exact: true })).toBeVisible();

  // Every operation: in the list at the top, and as a section with its method, path and responses.
  const toc = page.getByRole("navigation", { name: "Operations" });
  for (const operation of OPERATIONS) {
    await expect(toc.getByRole("link", { name: `${operation.method} ${operation.summary}`, exact: true })).toBeVisible();
    const section = page.getByRole("region", { name: operation.summary, exact: true });
    await expect(section).toBeVisible();
    await expect(section.getByText(operation.method, { exact: true }).first()).toBeVisible();
    await expect(section.getByText(operation.path, { exact: true })).toBeVisible();
    await expect(section.getByRole("heading", { name: "Responses" })).toBeVisible();
  }
  const put = page.getByRole("region", { name: OPERATIONS[1].summary, exact: true });
  await expect(put.getByRole("heading", { name: /Request body/ })).toBeVisible();
  for (const field of ["token", "buildkiteOrganization", "revokePrevious", "idempotency-key"]) {
    await expect(put.getByText(field, { exact: true }).first()).toBeVisible();
  }
  const disconnect = page.getByRole("region", { name: OPERATIONS[2].summary, exact: true });
  for (const parameter of ["revokeAtBuildkite", "force"]) await expect(disconnect.getByText(parameter, { exact: true }).first()).toBeVisible();

  // The problem codes: each code the document names is on the page, in the table of codes by status.
  const served = (await (await page.request.get("/api/v1/openapi.json")).json()) as {
    paths: Record<string, Record<string, { responses: Record<string, { description: string }> }>>;
  };
  const errorDescriptions = Object.values(served.paths)
    .flatMap((item) => Object.values(item))
    .flatMap((operation) => Object.entries(operation.responses))
    .filter(([status]) => /^[45]/.test(status))
    .map(([, answer]) => answer.description);
  // A code is a `snake_case` span; "with `…`" introduces a field of the problem instead (`organizations`, `errors`).
  const documented = new Set<string>(
    errorDescriptions.flatMap((text) => [...text.matchAll(/(with )?`([a-z][a-z_]*)`/g)].filter((match) => !match[1]).map((match) => match[2]!)),
  );
  for (const code of ["unauthenticated", "invalid_api_key", "forbidden", "not_found", "not_connected", "busy", "missing_scopes", "rate_limited", "buildkite_rate_limited", "validation_failed", "idempotency_key_reused", "secret_store_failed"]) {
    expect([...documented], `the document names ${code}`).toContain(code);
  }
  const errors = page.getByRole("table", { name: "Problem codes by HTTP status" });
  await expect(errors).toBeVisible();
  // Each code once per status it may carry, as a whole (`forbidden` is not the end of `token_forbidden`).
  for (const code of documented) await expect(errors.getByRole("listitem").filter({ hasText: new RegExp(`^${code}$`) }).first()).toBeVisible();
  await expect(errors.getByRole("row", { name: /^429/ })).toContainText("buildkite_rate_limited");
  await expect(errors.getByRole("row", { name: /^409/ })).toContainText("busy");

  // The schemas the operations refer to are on the page, and their links lead there.
  await page.getByRole("region", { name: OPERATIONS[0].summary, exact: true }).getByRole("link", { name: "Connection", exact: true }).click();
  await expect(page).toHaveURL(/#schema-Connection$/);
  await expect(page.getByRole("region", { name: "Connection", exact: true })).toBeInViewport();

  const results = await new AxeBuilder({ page }).withTags(WCAG).analyze();
  expect(results.violations.map((violation) => `${violation.id}: ${violation.help}`)).toEqual([]);

  // The raw document, from the page's own link.
  const raw = page.getByRole("link", { name: "/api/v1/openapi.json" });
  await expect(raw).toHaveAttribute("href", "/api/v1/openapi.json");
  const [download] = await Promise.all([page.waitForResponse((answer) => answer.url().endsWith("/api/v1/openapi.json")), raw.click()]);
  expect(download.status()).toBe(200);
  expect(download.headers()["content-type"]).toContain("application/json");
  const document = await download.json();
  expect(document.openapi).toBe("3.1.0");
  expect(Object.keys(document.paths)).toHaveLength(4);

  // Nothing but the app itself: no CDN, no font host, no telemetry.
  const origin = new URL(baseURL!).origin;
  const elsewhere = requests.filter((url) => /^https?:/.test(url) && new URL(url).origin !== origin);
  expect(elsewhere).toEqual([]);
  expect(requests.some((url) => url.endsWith(REFERENCE))).toBe(true);
  expect(consoleErrors).toEqual([]);
  await context.close();
});

test("the reference needs no JavaScript, and fits a 360 px screen", async ({ browser, baseURL }) => {
  test.slow();
  const signedIn = await browser.newContext();
  await signIn(await signedIn.newPage(), "admin@acme.test");
  const storageState = await signedIn.storageState();
  await signedIn.close();

  // Without scripts: the whole reference is in the HTML the server sends.
  const noScript = await browser.newContext({ storageState, javaScriptEnabled: false });
  const bare = await noScript.newPage();
  await bare.goto(REFERENCE);
  for (const operation of OPERATIONS) await expect(bare.getByRole("region", { name: operation.summary, exact: true })).toBeVisible();
  await expect(bare.getByRole("table", { name: "Problem codes by HTTP status" })).toBeVisible();
  await noScript.close();

  const narrow = await browser.newContext({ storageState, viewport: { width: 360, height: 800 } });
  const requests = recordRequests(narrow);
  const page = await narrow.newPage();
  await page.goto(REFERENCE);
  await expect(page.getByRole("heading", { name: "API reference", level: 1 })).toBeVisible();
  await expectNoHorizontalScroll(page);
  // Deep in the page too: the longest paths and the nested schemas.
  await page.getByRole("region", { name: "Connection", exact: true }).scrollIntoViewIfNeeded();
  await expectNoHorizontalScroll(page);
  const results = await new AxeBuilder({ page }).withTags(WCAG).analyze();
  expect(results.violations.map((violation) => `${violation.id}: ${violation.help}`)).toEqual([]);
  const origin = new URL(baseURL!).origin;
  expect(requests.filter((url) => /^https?:/.test(url) && new URL(url).origin !== origin)).toEqual([]);
  await narrow.close();
});

test("a member is told the reference is for admins, and sees none of it", async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, "member@acme.test");
  const nav = page.getByRole("navigation", { name: "Settings" });
  await expect(nav.getByRole("link", { name: "Integrations" })).toBeVisible();
  await expect(nav.getByRole("link", { name: "API reference" })).toHaveCount(0);

  await page.goto(REFERENCE);
  await expect(page.getByRole("heading", { name: "API reference", level: 1 })).toBeVisible();
  await expect(page.getByText("Only admins of Acme can see the API reference. Ask an admin.")).toBeVisible();
  await expect(page.getByRole("navigation", { name: "Operations" })).toHaveCount(0);
  await expect(page.getByRole("heading", { name: "Authentication" })).toHaveCount(0);
  for (const operation of OPERATIONS) await expect(page.getByText(operation.summary)).toHaveCount(0);
  await expect(page.getByText(await acmeId())).toHaveCount(0);
  const results = await new AxeBuilder({ page }).withTags(WCAG).analyze();
  expect(results.violations.map((violation) => `${violation.id}: ${violation.help}`)).toEqual([]);
  await context.close();
});
