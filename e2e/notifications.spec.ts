import { createHmac } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import { withDatabase } from "./support/app";
import { captureActionPost, replayActionPost, signedInPage } from "./support/server-actions";

// Settings → Notifications in the browser: an admin adds an endpoint, sees its signing secret once, sends a test
// event that a real receiver on a local port gets (signed with that secret), and sees it in the delivery log; a
// member sees none of it, and a member's direct POST to the action is refused and audited.

const NOTIFICATIONS = "/settings/notifications";

type Received = { headers: IncomingHttpHeaders; body: string };

let server: Server;
let receiverUrl: string;
const received: Received[] = [];

test.beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString("utf8") });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  receiverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/gitar`;
});

test.afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await withDatabase((client) => client.query(`DELETE FROM webhook_endpoints WHERE url LIKE 'http://127.0.0.1:%'`));
});

async function expectNoAxeViolations(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  expect(results.violations.map((violation) => `${violation.id}: ${violation.help} (${violation.nodes.map((node) => node.target).join(", ")})`)).toEqual([]);
}

/** What a receiver does: HMAC-SHA256 over `t.body` with the secret, compared with each v1. */
function verifies(secret: string, header: string, body: string): boolean {
  const parts = Object.fromEntries(header.split(",").map((part) => part.split("=") as [string, string]));
  const expected = createHmac("sha256", secret).update(`${parts.t}.${body}`).digest("hex");
  return header.split(",").some((part) => part === `v1=${expected}`);
}

test("an admin adds an endpoint, sees its secret once, sends a test event and sees it delivered", async ({ browser }) => {
  test.setTimeout(120_000);
  const { context, page } = await signedInPage(browser, "admin@acme.test");
  await page.getByRole("navigation", { name: "Settings" }).getByRole("link", { name: "Notifications" }).click();
  await expect(page).toHaveURL(new RegExp(`${NOTIFICATIONS}$`));
  await expect(page.getByRole("heading", { name: "Notifications", level: 1 })).toBeVisible();
  await expect(page.getByText("Email is not configured on this server")).toBeVisible();

  // A wrong URL says what to do, and adds nothing.
  await page.getByLabel("Endpoint URL").fill("ftp://hooks.example.com");
  await page.getByRole("button", { name: "Add endpoint" }).click();
  await expect(page.getByText("The address must start with https://")).toBeVisible();
  expect(await withDatabase(async (client) => (await client.query(`SELECT count(*)::int AS n FROM webhook_endpoints WHERE url LIKE 'ftp:%'`)).rows[0].n)).toBe(0);

  // Every event is chosen by default.
  for (const checkbox of await page.getByRole("group", { name: "Events to send" }).getByRole("checkbox").all()) await expect(checkbox).toBeChecked();
  await page.getByLabel("Endpoint URL").fill(receiverUrl);
  await page.getByRole("button", { name: "Add endpoint" }).click();
  const secretField = page.getByLabel("Signing secret");
  await expect(secretField).toBeVisible();
  await expect(secretField).toHaveAccessibleDescription(/it will not be shown again/);
  const secret = await secretField.inputValue();
  expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
  await expectNoAxeViolations(page);

  const endpoint = page.getByRole("region", { name: receiverUrl });
  await expect(endpoint).toContainText("Enabled");
  await expect(endpoint).toContainText("No deliveries yet");

  // Shown once: gone after a reload, and kept nowhere the page can read.
  await page.reload();
  await expect(page.getByLabel("Signing secret")).toHaveCount(0);
  expect(await page.content()).not.toContain(secret);
  const stored = await withDatabase(async (client) => (await client.query(`SELECT row_to_json(w)::text AS row FROM webhook_endpoints w WHERE url = $1`, [receiverUrl])).rows);
  expect(stored).toHaveLength(1);
  expect(stored[0].row).not.toContain(secret);

  // The test event goes through the job runner to the receiver, signed with the secret that was shown.
  await endpoint.getByRole("button", { name: /^Send test event/ }).click();
  await expect(endpoint.getByText("Test event queued")).toBeVisible();
  await expect.poll(() => received.length, { timeout: 30_000 }).toBeGreaterThanOrEqual(1);
  const [delivery] = received;
  expect(verifies(secret, delivery!.headers["gitar-signature"] as string, delivery!.body)).toBe(true);
  expect(JSON.parse(delivery!.body)).toMatchObject({ type: "test", organization: { name: "Acme" }, actor: { type: "person", email: "admin@acme.test" } });

  // The log shows it (the page refreshes itself while a delivery is queued).
  const log = endpoint.getByRole("table", { name: /Delivery log/ });
  const row = log.getByRole("row").filter({ hasText: "test" });
  await expect(row).toContainText("Delivered", { timeout: 30_000 });
  await expect(row).toContainText("204");
  await expect(row.getByRole("cell").nth(2)).toHaveText("1"); // attempt
  await expect(row).toContainText(/\d+ ms/);
  await expectNoAxeViolations(page);

  // Disable, then enable.
  await endpoint.getByRole("button", { name: /^Disable/ }).click();
  await expect(endpoint.getByText(/disabled\. It gets no events/)).toBeVisible();
  await page.reload();
  await expect(page.getByRole("region", { name: receiverUrl })).toContainText("Disabled");
  await page.getByRole("region", { name: receiverUrl }).getByRole("button", { name: /^Enable/ }).click();
  await expect(page.getByRole("region", { name: receiverUrl }).getByText(/enabled\. New events/)).toBeVisible();
  await context.close();
});

test("a member sees nothing of notifications, and a member's direct POST is refused and audited", async ({ browser }) => {
  const member = await signedInPage(browser, "member@acme.test");
  await expect(member.page.getByRole("navigation", { name: "Settings" }).getByRole("link", { name: "Notifications" })).toHaveCount(0);
  await member.page.goto(NOTIFICATIONS);
  await expect(member.page.getByText("Only admins of Acme can manage notifications")).toBeVisible();
  await expect(member.page.getByLabel("Endpoint URL")).toHaveCount(0);
  await expect(member.page.getByRole("button", { name: /Send test event/ })).toHaveCount(0);
  expect(await member.page.content()).not.toContain("127.0.0.1");

  const before = await withDatabase(async (client) => (await client.query(`SELECT count(*)::int AS n FROM webhook_endpoints`)).rows[0].n as number);
  const post = await captureActionPost(browser, NOTIFICATIONS, async (page) => {
    await page.getByLabel("Endpoint URL").fill("https://hooks.example.com/member-try");
    await page.getByRole("button", { name: "Add endpoint" }).click();
  });
  const answer = await replayActionPost(member.page, NOTIFICATIONS, post);

  expect(answer).toContain("Only admins of Acme can manage notifications");
  expect(await withDatabase(async (client) => (await client.query(`SELECT count(*)::int AS n FROM webhook_endpoints`)).rows[0].n as number)).toBe(before);
  const refused = await withDatabase(async (client) =>
    (
      await client.query(
        `SELECT a.action, a.outcome, a.code, a.actor_email FROM audit_events a JOIN organizations o ON o.id = a.organization_id
         WHERE o.slug = 'acme' AND a.action = 'webhook.create' ORDER BY a.created_at DESC LIMIT 1`,
      )
    ).rows[0],
  );
  expect(refused).toMatchObject({ action: "webhook.create", outcome: "refused", code: "not_admin", actor_email: "member@acme.test" });
  await member.context.close();
});
