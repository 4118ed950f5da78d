// A recognisable token sent through every path — refusals, failures and a success — must never come back: not in
// a response or page, not in the server's output, not in any database table, not in a file in the data directory.
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { REQUIRED_SCOPE_NAMES } from "../lib/buildkite/scopes";
import { buildkiteCard, disconnectOrganization, INTEGRATIONS, registerBuildkiteToken, signIn, withDatabase } from "./support/app";
import { e2eBackend, e2eValue } from "./support/environment";

const CANARY = `bkua_LEAKCANARY.${Date.now().toString(36)}Zq7Xw3Vn`;
const NINE = [...REQUIRED_SCOPE_NAMES];
// Everything the server sent: each response's URL, headers and body. (Not the live DOM: after typing, the page's
// own input holds the token the admin pasted, which is the browser's business, not a leak by the server.)
const seen: Array<{ what: string; text: string }> = [];

function recordResponses(page: Page) {
  page.on("response", async (response) => {
    const what = `${response.request().method()} ${response.url()}`;
    seen.push({ what: `${what} headers`, text: JSON.stringify(await response.allHeaders()) });
    seen.push({ what: `${what} body`, text: await response.text().catch(() => "") });
  });
}

async function submit(page: Page, token: string) {
  await page.getByLabel("Buildkite API Token").fill(token);
  await page.getByRole("button", { name: "Connect Buildkite" }).click();
}

async function* filesUnder(directory: string): AsyncGenerator<string> {
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) yield* filesUnder(full);
    else yield full;
  }
}

test("a token never leaks, whatever path it takes", async ({ page, browser }) => {
  test.setTimeout(120_000);
  await disconnectOrganization("globex");
  recordResponses(page);
  await signIn(page, "admin@globex.test");

  const failingScenarios = [
    { kind: "unauthorized" },
    { kind: "forbidden", missingScope: "read_builds" },
    { kind: "rate_limited", resetSeconds: 30 },
    { kind: "server_error", status: 502 },
    { kind: "html_body" },
    { kind: "ok", scopes: NINE.slice(2), organizations: [{ slug: "globex-ci", name: "Globex CI" }] },
    { kind: "ok", scopes: NINE, organizations: [] },
  ];
  for (const scenario of failingScenarios) {
    await registerBuildkiteToken(CANARY, scenario);
    await submit(page, CANARY);
    await expect(buildkiteCard(page).getByRole("alert")).toBeVisible();
  }
  // Input refusals that echo nothing back either.
  await submit(page, `${CANARY} ${CANARY}`);
  await expect(buildkiteCard(page).getByRole("alert")).toBeVisible();

  // A member trying it.
  const memberContext = await browser.newContext();
  const member = await memberContext.newPage();
  recordResponses(member);
  await signIn(member, "member@acme.test");
  await member.goto(INTEGRATIONS);
  await memberContext.close();

  // And a success, then the connected page.
  await registerBuildkiteToken(CANARY, { kind: "ok", scopes: NINE, organizations: [{ slug: "globex-ci", name: "Globex CI" }], description: "Gitar Integration" });
  await submit(page, CANARY);
  await expect(buildkiteCard(page).getByText("Connected", { exact: true })).toBeVisible();
  await page.goto(INTEGRATIONS);
  await page.waitForLoadState("networkidle");

  expect(seen.length).toBeGreaterThan(20);
  const leaks = seen.filter(({ text }) => text.includes(CANARY)).map(({ what }) => what);
  expect(leaks, "responses that contained the token").toEqual([]);

  const serverOutput = await readFile(e2eValue("E2E_SERVER_LOG"), "utf8");
  expect(serverOutput.length).toBeGreaterThan(0);
  expect(serverOutput.includes(CANARY), "the server's output contained the token").toBe(false);

  const tables = await withDatabase(async (client) => {
    const { rows } = await client.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`,
    );
    const dumps: Record<string, string> = {};
    for (const { table_name } of rows) {
      const result = await client.query(`SELECT row_to_json(t)::text AS row FROM "${table_name}" t`);
      dumps[table_name] = result.rows.map((row: { row: string }) => row.row).join("\n");
    }
    return dumps;
  });
  expect(Object.keys(tables)).toContain("buildkite_connections");
  for (const [table, dump] of Object.entries(tables)) {
    expect(dump.includes(CANARY), `table ${table} contained the token`).toBe(false);
  }

  for await (const file of filesUnder(e2eValue("E2E_DATA_DIR"))) {
    const content = await readFile(file);
    expect(content.includes(CANARY), `${file} contained the token in plaintext`).toBe(false);
  }

  if (e2eBackend === "aws") {
    // The one place the token belongs: the secret store.
    const stored = await (await fetch(`${e2eValue("E2E_SECRETS_MANAGER_URL")}/__stand-in/secrets`)).text();
    expect(stored).toContain(CANARY);
  }
});
