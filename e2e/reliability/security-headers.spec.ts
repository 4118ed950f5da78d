import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { expect, test, type Page } from "@playwright/test";
import { organizationId } from "../support/api";
import { auditEventsOf, buildkiteRequests, disconnectOrganization, freshBuildkiteToken, INTEGRATIONS, signIn, withDatabase } from "../support/app";
import { e2eBaseUrl } from "../support/environment";
import { captureActionPost } from "../support/server-actions";

// The headers every page is served with, seen by a real browser: a Content-Security-Policy with a fresh nonce per
// request that lets the app's own scripts run and nothing else, the other security headers, and how the session
// cookie is set. The pages must still work under the policy — any violation fails the test.

const SIGNED_IN_PAGES = [INTEGRATIONS, "/settings/audit", "/settings/api-keys", "/settings/api-reference", "/no-such-page"];

/** Every CSP violation the page reports, from its first script on. */
async function watchViolations(page: Page): Promise<() => Promise<string[]>> {
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { __violations: string[] }).__violations = seen;
    document.addEventListener("securitypolicyviolation", (event) => seen.push(`${event.violatedDirective} ${event.blockedURI}`));
  });
  const console: string[] = [];
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) console.push(message.text());
  });
  return async () => [...(await page.evaluate(() => (window as unknown as { __violations: string[] }).__violations)), ...console];
}

function nonceOf(policy: string | undefined): string {
  const nonce = policy?.match(/'nonce-([^']+)'/)?.[1];
  expect(nonce, `no nonce in ${policy}`).toBeTruthy();
  return nonce!;
}

test("every page carries a policy with a fresh nonce, its scripts carry that nonce, and nothing is blocked", async ({ page }) => {
  const violations = await watchViolations(page);
  const signInResponse = await page.goto("/sign-in");
  expect(await violations()).toEqual([]);
  const firstNonce = nonceOf(signInResponse!.headers()["content-security-policy"]);

  await signIn(page, "admin@acme.test");
  const nonces = new Set([firstNonce]);
  for (const path of SIGNED_IN_PAGES) {
    const response = await page.goto(path);
    const policy = response!.headers()["content-security-policy"];
    expect(policy).toContain("'strict-dynamic'");
    expect(policy).toContain("default-src 'self'");
    expect(policy).toContain("object-src 'none'");
    expect(policy).toContain("base-uri 'none'");
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).toMatch(/form-action 'self'(;|$)/);
    expect(policy).not.toContain("unsafe-inline");
    const nonce = nonceOf(policy);
    nonces.add(nonce);
    // Every script the server sent is one the policy allows: the app's own, with this response's nonce.
    const scriptNonces = await page.locator("script").evaluateAll((scripts) => scripts.map((script) => (script as HTMLScriptElement).nonce));
    expect(scriptNonces.length).toBeGreaterThan(0);
    for (const scriptNonce of scriptNonces) expect(scriptNonce).toBe(nonce);
    // And the build's stylesheet applies: the body's font is the app's, not the browser's default serif.
    expect(await page.evaluate(() => getComputedStyle(document.body).fontFamily)).toContain("system-ui");
    expect(await violations(), path).toEqual([]);
  }
  expect(nonces.size).toBe(SIGNED_IN_PAGES.length + 1);

  // And the page works under the policy: React hydrated the connect form (it attaches its fiber to the elements
  // it adopts), which takes every chunk of the build and the inline payload scripts.
  await disconnectOrganization("acme");
  await page.goto(INTEGRATIONS);
  const token = page.getByLabel("Buildkite API Token", { exact: true });
  await expect
    .poll(() => token.evaluate((input) => Object.keys(input).some((key) => key.startsWith("__reactFiber"))))
    .toBe(true);
  expect(await violations()).toEqual([]);
});

test("a script or a style injected into a page's markup does not apply", async ({ page }) => {
  const violations = await watchViolations(page);
  await page.route("**/sign-in", async (route) => {
    const response = await route.fetch();
    const html = (await response.text()).replace(
      "</body>",
      "<script>window.__injected = true</script><style>body { font-family: monospace }</style></body>",
    );
    await route.fulfill({ response, body: html });
  });
  await page.goto("/sign-in");
  expect(await page.evaluate(() => (window as unknown as { __injected?: boolean }).__injected)).toBeUndefined();
  expect(await page.evaluate(() => getComputedStyle(document.body).fontFamily)).not.toContain("monospace");
  await expect.poll(violations).toContainEqual(expect.stringMatching(/^script-src/));
  await expect.poll(violations).toContainEqual(expect.stringMatching(/^style-src/));
});

test("the other security headers, on pages, API answers and static files alike", async ({ page, request }) => {
  const pageResponse = await page.goto("/sign-in");
  const stylesheet = await page.locator('link[rel="stylesheet"]').first().getAttribute("href");
  const responses = [
    pageResponse!,
    await request.get("/api/v1/openapi.json"),
    await request.get(stylesheet!),
  ];
  for (const response of responses) {
    const headers = response.headers();
    expect(headers["x-content-type-options"], response.url()).toBe("nosniff");
    expect(headers["referrer-policy"], response.url()).toBe("strict-origin-when-cross-origin");
    expect(headers["x-frame-options"], response.url()).toBe("DENY");
    // The browser tests run the production build (`npm start`), which sends HSTS; browsers ignore it over plain HTTP.
    expect(headers["strict-transport-security"], response.url()).toBe("max-age=63072000; includeSubDomains");
    expect(headers["x-powered-by"], response.url()).toBeUndefined();
  }
});

test("the session cookie is HttpOnly and SameSite=Lax (and, served over plain HTTP on this machine, not Secure)", async ({ page, context }) => {
  await signIn(page, "admin@acme.test");
  const session = (await context.cookies()).find((cookie) => cookie.name.endsWith("authjs.session-token"));
  expect(session).toBeDefined();
  expect(session!.httpOnly).toBe(true);
  expect(session!.sameSite).toBe("Lax");
  expect(session!.secure).toBe(false);
  expect(await page.evaluate(() => document.cookie)).not.toContain("session-token");
});

test("a page on another site cannot act with an admin's session: not through the API, not through a form", async ({ browser, page }) => {
  await disconnectOrganization("acme");
  await signIn(page, "admin@acme.test");
  const acme = await organizationId("acme");
  const token = await freshBuildkiteToken();
  // The form's action id, from the POST an admin's own click makes (captured, never sent).
  const post = await captureActionPost(browser, INTEGRATIONS, async (admin) => {
    await admin.getByLabel("Buildkite API Token").fill(token);
    await admin.getByRole("button", { name: "Connect Buildkite" }).click();
  });
  const actionId = post.headers["next-action"]!;
  expect(actionId).toBeTruthy();
  const auditBefore = (await auditEventsOf("acme")).length;

  // Another site: a bare page served on "localhost" (a different site from 127.0.0.1 to the browser, which holds the
  // admin's session cookie for 127.0.0.1), with no policy of ours in the way.
  const target = e2eBaseUrl;
  const elsewhere = createServer((_, response) => response.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>elsewhere</title>"));
  await new Promise<void>((resolve) => elsewhere.listen(0, "127.0.0.1", resolve));
  await page.goto(`http://localhost:${(elsewhere.address() as AddressInfo).port}/`);
  await page.evaluate(
    async ({ target, acme }) => {
      // A simple cross-site request (no preflight), with credentials asked for.
      await fetch(`${target}/api/v1/organizations/${acme}/integrations/buildkite/verify`, { method: "POST", credentials: "include", mode: "no-cors" });
    },
    { target, acme },
  );
  // A cross-site form carrying the connect action's id and a token: what a forged page would submit.
  await Promise.all([
    page.waitForNavigation(),
    page.evaluate(
      ({ target, actionId, token }) => {
        const form = document.createElement("form");
        form.method = "POST";
        form.enctype = "multipart/form-data";
        form.action = `${target}/settings/integrations`;
        for (const [name, value] of [[`$ACTION_ID_${actionId}`, ""], ["token", token]]) {
          const input = document.createElement("input");
          input.type = "hidden";
          input.name = name!;
          input.value = value!;
          form.append(input);
        }
        document.body.append(form);
        form.submit();
      },
      { target, actionId, token },
    ),
  ]);

  elsewhere.close();
  // Neither went through as the admin: nothing connected, the token never reached Buildkite, no verify by a person.
  expect(await connectionOrNull("acme")).toBeNull();
  expect((await buildkiteRequests()).filter((request) => request.token === token)).toEqual([]);
  const since = (await auditEventsOf("acme")).slice(auditBefore);
  expect(since.filter((event) => event.actor_type === "person")).toEqual([]);
});

const connectionOrNull = (slug: string) =>
  withDatabase(async (client) => {
    const { rows } = await client.query(
      "SELECT c.status FROM buildkite_connections c JOIN organizations o ON o.id = c.organization_id WHERE o.slug = $1",
      [slug],
    );
    return rows[0] ?? null;
  });
