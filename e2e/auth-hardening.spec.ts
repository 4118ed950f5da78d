import { randomUUID } from "node:crypto";
import http from "node:http";
import { expect, test } from "@playwright/test";
import { INTEGRATIONS, signIn, withDatabase } from "./support/app";
import { e2ePort } from "./support/environment";

/** A person of their own in the demo Acme organisation, with the demo password (copied from a demo account). */
async function createAcmeMember(): Promise<string> {
  const email = `temp-${randomUUID().slice(0, 8)}@acme.test`;
  await withDatabase(async (client) => {
    await client.query(
      `INSERT INTO users (id, email, name, password_hash)
       SELECT gen_random_uuid(), $1, 'Tess Temporary', password_hash FROM users WHERE email = 'member@acme.test'`,
      [email],
    );
    await client.query(
      `INSERT INTO memberships (id, user_id, organization_id, role)
       SELECT gen_random_uuid(), u.id, o.id, 'member' FROM users u, organizations o WHERE u.email = $1 AND o.slug = 'acme'`,
      [email],
    );
  });
  return email;
}

test("a person removed from their organisation while signed in sees who they are and can sign out, without a loop", async ({ page }) => {
  const email = await createAcmeMember();
  await signIn(page, email);
  await expect(page.getByRole("banner")).toContainText("Tess Temporary");

  await withDatabase((client) => client.query(`DELETE FROM memberships WHERE user_id = (SELECT id FROM users WHERE email = $1)`, [email]));
  await page.reload();
  await expect(page).toHaveURL(/\/not-a-member$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("You are not a member of an organisation");
  await expect(page.getByRole("main")).toContainText(email);
  // Every way back into the app leads here, not round in circles.
  for (const path of [INTEGRATIONS, "/settings/audit", "/", "/sign-in"]) {
    await page.goto(path);
    await expect(page).toHaveURL(/\/not-a-member$/);
  }

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/sign-in/);
  await page.goto(INTEGRATIONS);
  await expect(page).toHaveURL(/\/sign-in/);
  await page.goto("/not-a-member");
  await expect(page).toHaveURL(/\/sign-in/);
});

test("a role changed while someone is signed in holds from their next view, though the page kept what it showed", async ({ page }) => {
  const email = await createAcmeMember();
  const setRole = (role: "admin" | "member") =>
    withDatabase((client) => client.query(`UPDATE memberships SET role = $2 WHERE user_id = (SELECT id FROM users WHERE email = $1)`, [email, role]));
  try {
    await setRole("admin");
    await signIn(page, email);
    // Views read the membership from the app's view cache once it is kept (lib/db/view-cache.ts); the change below is
    // made in the database directly, as `npm run members:add` or another instance would, and must still show.
    for (let view = 0; view < 3; view++) {
      await page.goto(INTEGRATIONS);
      await expect(page.getByRole("banner")).toContainText("Admin");
    }
    await setRole("member");
    await page.goto(INTEGRATIONS);
    await expect(page.getByRole("banner")).toContainText("Member");
    await expect(page.getByRole("main")).toContainText("Only admins can change integrations; you can see their status.");
    await setRole("admin");
    await page.goto(INTEGRATIONS);
    await expect(page.getByRole("banner")).toContainText("Admin");
  } finally {
    await withDatabase((client) => client.query(`DELETE FROM users WHERE email = $1`, [email]));
  }
});

test("after 10 failed attempts an account is refused for 15 minutes, saying only when to try again", async ({ browser }) => {
  // A client that claims another address: without TRUST_PROXY the app counts the socket's address regardless.
  const context = await browser.newContext({ extraHTTPHeaders: { "x-forwarded-for": "203.0.113.50" } });
  const page = await context.newPage();
  // An account nobody else uses: a demo account locked here would fail other specs.
  const email = `throttled-${randomUUID().slice(0, 8)}@acme.test`;
  await page.goto("/sign-in");
  const attempt = async () => {
    await page.getByLabel("Email", { exact: true }).fill(email);
    await page.getByLabel("Password", { exact: true }).fill("not-the-password");
    await page.getByRole("button", { name: "Sign in" }).click();
  };
  for (let failure = 1; failure <= 10; failure++) {
    await attempt();
    await expect(page.getByRole("main").getByRole("alert")).toHaveText(
      "That email and password do not match an account. Check them and try again.",
    );
    // Wait for the form to be ready again before the next attempt.
    await expect(page.getByRole("button", { name: "Sign in" })).toBeEnabled();
    await page.getByLabel("Password", { exact: true }).fill("");
  }
  await attempt();
  await expect(page.getByRole("main").getByRole("alert")).toHaveText("Too many attempts. Try again in 15 minutes.");

  const keys = await withDatabase(async (client) => (await client.query<{ key: string }>(`SELECT key FROM rate_limits.sign_in_attempts`)).rows.map((row) => row.key));
  expect(keys).toContain("sign-in-address:127.0.0.1");
  expect(keys.some((key) => key.includes("203.0.113.50"))).toBe(false);
  expect(keys.some((key) => key.includes(email))).toBe(false);
  await context.close();
});

/** A request with a Host header of our choosing (fetch will not send one). */
function requestWithHost(host: string, path = "/sign-in"): Promise<{ status: number; contentType: string; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: "127.0.0.1", port: e2ePort, path, headers: { host } }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, contentType: String(response.headers["content-type"]), body }));
    });
    request.on("error", reject);
    request.end();
  });
}

test("a request addressed to another host name (DNS rebinding) is refused with 421; this machine's names are served", async () => {
  for (const host of ["evil.test", `evil.test:${e2ePort}`, `127.0.0.1.evil.test:${e2ePort}`]) {
    for (const path of ["/sign-in", INTEGRATIONS, "/api/auth/session", "/api/v1/openapi.json"]) {
      const refused = await requestWithHost(host, path);
      expect(refused.status, `${host}${path}`).toBe(421);
      expect(refused.contentType).toMatch(/^text\/plain/);
      expect(refused.body).toMatch(/^Misdirected request/);
    }
  }
  for (const host of [`127.0.0.1:${e2ePort}`, `localhost:${e2ePort}`]) {
    const served = await requestWithHost(host);
    expect(served.status, host).toBe(200);
    expect(served.body).toContain("Sign in to Gitar");
  }
});

