// A recognisable token sent through every path — refusals, failures and a success — must never come back: not in
// a response or page, not in the server's output, not in any database table, not in a file in the data directory,
// not in the secret store's names, descriptions or tags.
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { REQUIRED_SCOPE_NAMES } from "../../lib/buildkite/scopes";
import { apiCall, apiPaths, apiWithKey, resetTokenChecks, responsesSeen, type ApiResult } from "../support/api";
import { buildkiteCard, disconnectOrganization, freshBuildkiteToken, GOOD_SCENARIO, INTEGRATIONS, registerBuildkiteToken, signIn, withDatabase } from "../support/app";
import type { StoredSecretView } from "../../tests/support/secrets-manager-stand-in";
import { e2eBackend, e2eValue } from "../support/environment";

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
    // The one place the token belongs: a secret's value. Never its name, description, tags or version ids, which
    // IAM policies, CloudTrail and the console show to people who may not read values.
    const response = await fetch(`${e2eValue("E2E_SECRETS_MANAGER_URL")}/__stand-in/secrets`);
    expect(response.ok).toBe(true);
    const stored = ((await response.json()) as { secrets: StoredSecretView[] }).secrets;
    expect(stored.some((secret) => secret.versions.some((version) => version.value.includes(CANARY)))).toBe(true);
    for (const secret of stored) {
      const { versions, ...metadata } = secret;
      const versionMetadata = versions.map((version) => ({ versionId: version.versionId, stages: version.stages, createdDate: version.createdDate }));
      expect(JSON.stringify([metadata, versionMetadata]).includes(CANARY), `the metadata of ${secret.name} contained the token`).toBe(false);
    }
  }
});

test("a token never leaks through the API, whatever path it takes", async ({ request }) => {
  test.setTimeout(180_000);
  // One marker in every variant, so a partial echo is caught too.
  const marker = `LEAKCANARYAPI${Date.now().toString(36)}Hp3Zq9`;
  const canary = `bkua_MTA.${marker}`;
  const agentCanary = `bkaa_${marker}`;
  const globexScenario = { ...GOOD_SCENARIO, organizations: [{ slug: "globex-ci", name: "Globex CI" }] };
  await disconnectOrganization("globex");
  await resetTokenChecks();
  const api = await apiWithKey(request, "globex");
  const connectionPath = apiPaths.connection(api.orgId);
  const firstSeen = responsesSeen().length;
  const results: ApiResult[] = [];
  const send = async (call: Promise<ApiResult>) => {
    const result = await call;
    results.push(result);
    return result;
  };

  // Every way Buildkite can turn the token down, on connect.
  const failing: Array<{ scenario: Record<string, unknown>; body?: Record<string, unknown> }> = [
    { scenario: { kind: "unauthorized" } },
    { scenario: { kind: "forbidden", missingScope: "read_builds" } },
    { scenario: { kind: "forbidden" } },
    { scenario: { kind: "rate_limited", resetSeconds: 30 } },
    { scenario: { kind: "server_error", status: 503 } },
    { scenario: { kind: "server_error", status: 500 } },
    { scenario: { kind: "connection_reset" } },
    { scenario: { kind: "hang" } },
    { scenario: { kind: "html_body" } },
    { scenario: { kind: "missing_uuid", base: globexScenario } },
    { scenario: { ...globexScenario, expiresOffsetMs: -24 * 60 * 60 * 1000 } },
    { scenario: { ...globexScenario, scopes: NINE.slice(3) } },
    { scenario: { ...globexScenario, organizations: [] } },
    { scenario: { ...globexScenario, organizations: [{ slug: "globex-ci", name: "Globex CI" }, { slug: "globex-labs", name: "Globex Labs" }] } },
    { scenario: { ...globexScenario, organizations: [{ slug: "globex-ci", name: "Globex CI" }, { slug: "globex-labs", name: "Globex Labs" }] }, body: { buildkiteOrganization: "nowhere" } },
  ];
  for (const { scenario, body } of failing) {
    await registerBuildkiteToken(canary, scenario);
    const result = await send(api.putConnection({ token: canary, ...body }));
    expect(result.status, JSON.stringify(scenario)).toBeGreaterThanOrEqual(400);
  }
  // Tokens refused before Buildkite is asked.
  for (const token of [agentCanary, `${canary} ${canary}`, ` ${canary}\n`]) {
    expect((await send(api.putConnection({ token }))).status).toBeGreaterThanOrEqual(400);
  }

  // Bodies that are not what the API takes, with the token inside.
  const bodies: Array<{ body: string; contentType?: string }> = [
    { body: `{"token": "${canary}"` },
    { body: `{"token": "${canary}", "extra": "${canary}"}` },
    { body: JSON.stringify({ [canary]: "a token as a field name" }) },
    { body: JSON.stringify({ token: "bkua_short", [canary]: canary }) },
    { body: JSON.stringify({ token: canary.repeat(10) }) },
    { body: JSON.stringify({ token: canary, buildkiteOrganization: canary }) },
    { body: JSON.stringify({ token: canary, revokePrevious: canary }) },
    { body: JSON.stringify({ token: 42, buildkiteOrganization: `Org ${canary}` }) },
    { body: JSON.stringify([canary]) },
    { body: JSON.stringify(canary) },
    { body: `token=${canary}`, contentType: "application/x-www-form-urlencoded" },
    { body: canary, contentType: "text/plain" },
    { body: JSON.stringify({ token: canary, padding: canary.repeat(600) }) },
  ];
  for (const { body, contentType } of bodies) {
    const result = await send(apiCall(api.caller, "PUT", connectionPath, { body, contentType }));
    expect(result.status, body.slice(0, 80)).toBeGreaterThanOrEqual(400);
  }

  // The token in the Idempotency-Key header (valid and not), in the query string, in the path, as an API key.
  await registerBuildkiteToken(canary, { kind: "unauthorized" });
  await send(api.putConnection({ token: canary }, { idempotencyKey: canary }));
  await send(api.putConnection({ token: canary }, { idempotencyKey: canary }));
  await send(api.putConnection({ token: canary }, { idempotencyKey: `${canary} with spaces` }));
  await send(api.deleteConnection({ idempotencyKey: canary }));
  for (const query of [{ revokeAtBuildkite: canary }, { force: canary }, { [canary]: "true" }] as Array<Record<string, string>>) await send(api.deleteConnection({ query }));
  for (const query of [{ cursor: canary }, { action: canary }, { limit: canary }, { [canary]: "1" }] as Array<Record<string, string>>) await send(api.auditEvents(query));
  await send(apiCall(api.caller, "GET", apiPaths.connection(canary)));
  await send(apiCall(api.caller, "POST", apiPaths.verify(encodeURIComponent(canary))));
  for (const key of [canary, `gitar_ak_${marker}`]) {
    await send(apiCall({ request, key }, "GET", connectionPath));
    await send(apiCall({ request, key }, "PUT", connectionPath, { json: { token: canary } }));
  }

  // Successes: connect, a replay, rotate away and back (revoking on the way), verify, diagnostics, the audit log.
  // (The failures above used up most of the organisation's 20 token checks: start the count afresh.)
  await resetTokenChecks();
  await registerBuildkiteToken(canary, globexScenario);
  expect((await send(api.putConnection({ token: canary }, { idempotencyKey: `connect-${marker.length}-${Date.now()}` }))).status).toBe(201);
  expect((await send(api.putConnection({ token: canary }))).status).toBe(409);
  await send(api.getConnection());
  await send(api.verify());
  await send(api.diagnostics());
  const other = await freshBuildkiteToken(globexScenario);
  expect((await send(api.putConnection({ token: other, revokePrevious: true }))).status).toBe(200);
  await registerBuildkiteToken(canary, globexScenario);
  expect((await send(api.putConnection({ token: canary }))).status).toBe(200);
  // Failures with the token stored: Buildkite down, the token revoked, a revoke that fails.
  await registerBuildkiteToken(canary, { kind: "server_error", status: 503 });
  await send(api.verify());
  await send(api.diagnostics());
  expect((await send(api.putConnection({ token: await freshBuildkiteToken(globexScenario), revokePrevious: true }))).status).toBe(200);
  await registerBuildkiteToken(canary, globexScenario);
  expect((await send(api.putConnection({ token: canary }))).status).toBe(200);
  await registerBuildkiteToken(canary, { kind: "unauthorized" });
  await send(api.verify());
  await send(api.diagnostics());
  await registerBuildkiteToken(canary, { kind: "server_error", status: 503 });
  expect((await send(api.deleteConnection())).status).toBe(502);
  expect((await send(api.deleteConnection({ query: { force: "true" } }))).status).toBe(200);
  // And connected again at the end, so the secret store holds it.
  await registerBuildkiteToken(canary, globexScenario);
  expect((await send(api.putConnection({ token: canary }))).status).toBe(201);
  await send(api.auditEvents({ limit: "200" }));

  // Everywhere the token must not be, gathered into one list so a failure names every place at once.
  const leaks: string[] = [];

  // Every response: headers and body (apiCall fails the test when a body cannot be read).
  const seenHere = responsesSeen().slice(firstSeen);
  expect(seenHere.length).toBe(results.length);
  expect(seenHere.length).toBeGreaterThan(60);
  for (const response of seenHere) {
    if (JSON.stringify(response.headers).includes(marker)) leaks.push(`response headers of ${response.method} ${response.path} → ${response.status}`);
    if (response.text.includes(marker)) leaks.push(`response body of ${response.method} ${response.path} → ${response.status}`);
  }

  const serverOutput = await readFile(e2eValue("E2E_SERVER_LOG"), "utf8");
  expect(serverOutput.length).toBeGreaterThan(0);
  serverOutput.split("\n").forEach((line, index) => {
    if (line.includes(marker)) leaks.push(`server output, line ${index + 1}: ${/"event":"([^"]+)"/.exec(line)?.[1] ?? line.slice(0, 60)}`);
  });

  // Every table of every schema the app uses (its own, the job runner's, the rate limiter's).
  const tables = await withDatabase(async (client) => {
    const { rows } = await client.query<{ table_schema: string; table_name: string }>(
      `SELECT table_schema, table_name FROM information_schema.tables
       WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`,
    );
    const dumps: Record<string, string> = {};
    for (const { table_schema, table_name } of rows) {
      const result = await client.query(`SELECT row_to_json(t)::text AS row FROM "${table_schema}"."${table_name}" t`);
      dumps[`${table_schema}.${table_name}`] = result.rows.map((row: { row: string }) => row.row).join("\n");
    }
    return dumps;
  });
  expect(Object.keys(tables)).toEqual(expect.arrayContaining(["public.buildkite_connections", "public.audit_events", "public.idempotency_keys", "public.api_keys"]));
  for (const [table, dump] of Object.entries(tables)) {
    const rows = dump.split("\n").filter((row) => row.includes(marker));
    const columns = rows.flatMap((row) => Object.entries(JSON.parse(row) as Record<string, unknown>).filter(([, value]) => JSON.stringify(value).includes(marker)).map(([column]) => column));
    if (rows.length > 0) leaks.push(`table ${table}: ${rows.length} row(s), column(s) ${[...new Set(columns)].join(", ")}`);
  }

  for await (const file of filesUnder(e2eValue("E2E_DATA_DIR"))) {
    if ((await readFile(file)).includes(marker)) leaks.push(`file ${file} (plaintext)`);
  }

  if (e2eBackend === "aws") {
    // The one place the token belongs: the secret store.
    const stored = await (await fetch(`${e2eValue("E2E_SECRETS_MANAGER_URL")}/__stand-in/secrets`)).text();
    expect(stored).toContain(canary);
  }

  expect(leaks, "places the token reached").toEqual([]);
});
