import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { expect, test } from "@playwright/test";
import fc from "fast-check";
import { startApp, type AppProcess } from "../support/app-process";
import { apiPaths, changeableState, contract, contractViolations, createTestKey, type CallOptions, type SeenResponse } from "../support/api";
import { resetTokenChecks, withDatabase } from "../support/app";
import { e2eBackend, e2ePort } from "../support/environment";

// Bad input, generated, over HTTP: 10,000 request bodies for PUT (connect), and 2,000 calls with generated queries
// and bodies to the other endpoints, each sent by Node's HTTP client (fetch, undici) to a production build of the
// app. (Not Playwright's request context: it keeps every response, and the trace every call, for the whole test.) Whatever
// arrives: never a 5xx, never a response that breaks the OpenAPI document, never an input echoed back, nothing
// stored, nothing unhandled in the server's output. A failure is shrunk by fast-check to the smallest input and
// printed with its seed.
//
// The app runs as an instance of its own beside the suite's, with rate limits high enough that the bodies, not the
// limiter, are what is tested (the suite's instance keeps the defaults its own tests rely on), for an organisation
// of its own: the limits are counted per organisation in Postgres, for every instance, and 12,000 calls would use up
// the demo organisations' for the tests that come after.

const TAG = "Zq9ECHO";
const RUNS_PER_BODY = 10_000;
const RUNS_PER_QUERY = 2_000;

let fuzzed: AppProcess;
let logFile: string;
let apiKey: string;
let orgId: string;
const ORGANIZATION = `fuzz-${randomBytes(4).toString("hex")}`;

/** An organisation with one admin, as members:add makes them. */
async function createOrganization(slug: string) {
  await withDatabase(async (client) => {
    const organizationId = randomUUID();
    const userId = randomUUID();
    await client.query(`INSERT INTO organizations (id, name, slug) VALUES ($1, $2, $3)`, [organizationId, `Fuzz ${slug}`, slug]);
    await client.query(`INSERT INTO users (id, email, name) VALUES ($1, $2, 'Fuzz Admin')`, [userId, `admin@${slug}.test`]);
    await client.query(`INSERT INTO memberships (id, user_id, organization_id, role) VALUES ($1, $2, $3, 'admin')`, [randomUUID(), userId, organizationId]);
  });
}

test.describe.configure({ mode: "serial" });

test.beforeAll(async () => {
  test.setTimeout(300_000);
  const env = JSON.parse(process.env.E2E_APP_ENV!) as NodeJS.ProcessEnv;
  logFile = path.resolve(import.meta.dirname, "../..", "test-results", `e2e-${e2eBackend}`, "server-fuzz-instance.log");
  fuzzed = await startApp({ ...env, PORT: String(e2ePort + 51), API_RATE_LIMIT_PER_KEY: "100000", API_RATE_LIMIT_PER_ORGANIZATION: "1000000" }, logFile);
  await createOrganization(ORGANIZATION);
  const key = await createTestKey(ORGANIZATION, { name: "fuzz" });
  apiKey = key.key;
  orgId = key.organizationId;
});

test.afterAll(async () => {
  await fuzzed?.stop();
  // The organisation goes, and with it its key, audit events and connection (ON DELETE CASCADE).
  await withDatabase((client) => client.query(`DELETE FROM organizations WHERE slug = $1`, [ORGANIZATION]));
  await withDatabase((client) => client.query(`DELETE FROM users WHERE email = $1`, [`admin@${ORGANIZATION}.test`]));
});

// Strings of every kind; a share of them carry the tag, so an echo of any part around it is seen.
const tagged = fc.tuple(fc.string({ maxLength: 24 }), fc.string({ maxLength: 24 })).map(([before, after]) => `${before}${TAG}${after}`);
const tokenShaped = fc
  .tuple(fc.constantFrom("bkua_", "bkaa_", "bkaj_", "BKUA_", ""), fc.stringMatching(/^[A-Za-z0-9._-]{0,40}$/), fc.stringMatching(/^[A-Za-z0-9._-]{0,10}$/))
  .map(([prefix, head, tail]) => `${prefix}${head}${TAG}${tail}`);
const anyString = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: "grapheme", maxLength: 200 }) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 60 }) },
  { weight: 3, arbitrary: tagged },
  { weight: 3, arbitrary: tokenShaped },
  { weight: 1, arbitrary: fc.constantFrom("", " ", "null", "true", "acme-inc", "../acme-inc", "<script>alert(1)</script>", "'; DROP TABLE organizations; --", "__proto__", "constructor") },
);
const leaf = fc.oneof(anyString, fc.integer(), fc.double(), fc.boolean(), fc.constant(null));
const field = fc.oneof({ weight: 4, arbitrary: leaf }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) });

// Close to what the API takes, so that many bodies get past the schema to the token check at Buildkite.
const nearlyValidBody = fc.record(
  {
    token: tokenShaped,
    buildkiteOrganization: fc.oneof(fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,30}$/), anyString),
    revokePrevious: fc.oneof(fc.boolean(), leaf),
  },
  { requiredKeys: ["token"] },
);

const connectBody = fc
  .tuple(
    fc.record({ token: field, buildkiteOrganization: field, revokePrevious: field }, { requiredKeys: [] }),
    fc.dictionary(anyString, field, { maxKeys: 3 }),
  )
  .map(([known, extra]) => ({ ...extra, ...known }));

type Sent = { options: CallOptions; method: string; path: string };

const contentTypes = fc.constantFrom(
  "application/json",
  "application/json; charset=utf-8",
  "application/problem+json",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/json; charset=utf-16",
  "",
);

/** A PUT body: JSON of the right shape with wrong values, any JSON, text that is not JSON, the wrong content type,
 *  or a body past the size limit. */
const putRequest = (path: string) =>
  fc
    .oneof(
      { weight: 6, arbitrary: connectBody.map((json) => ({ json })) },
      { weight: 4, arbitrary: nearlyValidBody.map((json) => ({ json })) },
      { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((json) => ({ json })) },
      { weight: 2, arbitrary: anyString.map((body) => ({ body })) },
      { weight: 2, arbitrary: fc.tuple(connectBody, contentTypes).map(([json, contentType]) => ({ body: JSON.stringify(json), contentType })) },
      { weight: 1, arbitrary: fc.tuple(anyString, fc.integer({ min: 17_000, max: 200_000 })).map(([text, size]) => ({ json: { token: text.padEnd(size, TAG) } })) },
    )
    .chain((options: CallOptions) =>
      fc.option(anyString, { freq: 4 }).map((idempotencyKey): Sent => ({
        method: "PUT",
        path,
        options: idempotencyKey === null ? options : { ...options, headers: { "idempotency-key": idempotencyKey.replace(/[^\x20-\x7e]/g, "") } },
      })),
    );

const queryValue = fc.oneof(anyString, fc.constantFrom("true", "false", "1", "0", "", "TRUE", "yes"));

/** The other endpoints: generated query strings (DELETE's switches, the audit log's cursor, filter and page size)
 *  and bodies where none is expected. */
const otherRequest = () =>
  fc.oneof(
    fc.record({ revokeAtBuildkite: queryValue, force: queryValue }, { requiredKeys: [] }).map((query): Sent => ({
      method: "DELETE",
      path: apiPaths.connection(orgId),
      options: { query },
    })),
    fc.record({ cursor: queryValue, action: queryValue, limit: fc.oneof(queryValue, fc.integer().map(String)) }, { requiredKeys: [] }).map(
      (query): Sent => ({ method: "GET", path: apiPaths.auditEvents(orgId), options: { query } }),
    ),
    fc.tuple(fc.constantFrom(apiPaths.verify(orgId), apiPaths.diagnostics(orgId)), fc.option(connectBody)).map(
      ([path, json]): Sent => ({ method: "POST", path, options: json === null ? {} : { json } }),
    ),
  );

async function send(sent: Sent): Promise<SeenResponse> {
  const { options } = sent;
  const headers: Record<string, string> = { authorization: `Bearer ${apiKey}`, ...options.headers };
  const body = typeof options.body === "string" ? options.body : options.json !== undefined ? JSON.stringify(options.json) : undefined;
  if (body !== undefined) headers["content-type"] = options.contentType ?? "application/json";
  const query = options.query ? `?${new URLSearchParams(options.query).toString()}` : "";
  const response = await fetch(`${fuzzed.url}${sent.path}${query}`, { method: sent.method, headers, body, redirect: "manual" });
  // A body that cannot be read fails the property (fetch rejects), as an unreadable answer must.
  const text = await response.text();
  return { method: sent.method, path: sent.path, status: response.status, headers: Object.fromEntries(response.headers), text };
}

let calls = 0;

/**
 * One call: never 5xx; the contract holds; nothing of the input comes back. Plain assertions (node:assert), not
 * Playwright's expect: each expect is a step the runner records, and 60,000 of them slow every later call.
 */
async function expectHandled(sent: Sent) {
  // The token-check limit (20 per organisation in 15 minutes) would otherwise stop every later token at the door.
  if (++calls % 15 === 0) await resetTokenChecks();
  const result = await send(sent);
  const where = `${sent.method} ${sent.path} → ${result.status}`;
  assert.ok(result.status >= 200 && result.status < 500, where);
  assert.deepEqual(contractViolations(await contract(), result), [], where);
  assert.ok(!result.text.includes(TAG), `${where}: the response repeated the input`);
  assert.ok(!JSON.stringify(result.headers).includes(TAG), `${where}: a header repeated the input`);
}

async function expectNothingStoredOrUnhandled(before: Awaited<ReturnType<typeof changeableState>>) {
  expect(await changeableState(ORGANIZATION)).toEqual(before);
  const tagged = await withDatabase(async (client) => {
    const { rows } = await client.query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`);
    const found: string[] = [];
    for (const { table_name } of rows) {
      const { rows: hits } = await client.query(`SELECT 1 FROM "${table_name}" t WHERE row_to_json(t)::text LIKE $1 LIMIT 1`, [`%${TAG}%`]);
      if (hits.length > 0) found.push(table_name);
    }
    return found;
  });
  expect(tagged, "tables holding a generated input").toEqual([]);
  const output = await readFile(logFile, "utf8");
  expect(output).not.toMatch(/unhandledRejection|uncaughtException/);
  expect(output.includes(TAG), "the server's output repeated the input").toBe(false);
}

test("10,000 generated connect bodies: no 5xx, no echo, nothing stored", async () => {
  test.setTimeout(900_000);
  const before = await changeableState(ORGANIZATION);

  await fc.assert(fc.asyncProperty(putRequest(apiPaths.connection(orgId)), expectHandled), { numRuns: RUNS_PER_BODY });

  await expectNothingStoredOrUnhandled(before);
});

test("2,000 generated queries and bodies to the other endpoints: no 5xx, no echo, nothing stored", async () => {
  test.setTimeout(600_000);
  const before = await changeableState(ORGANIZATION);

  await fc.assert(fc.asyncProperty(otherRequest(), expectHandled), { numRuns: RUNS_PER_QUERY });

  await expectNothingStoredOrUnhandled(before);
});
