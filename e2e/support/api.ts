// What the API specs share: keys made by inserting rows (as an admin's "Create API key" would), a client for the
// API that checks every response it sees against the OpenAPI document the app serves, and ways to look at what a
// call changed (the connection row, the secret store, the audit log).
import { createHash, randomUUID } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { expect, type APIRequestContext, type Browser } from "@playwright/test";
import Ajv2020, { type ValidateFunction } from "ajv/dist/2020.js";
import { generateApiKey } from "../../lib/api-keys/key-format";
import { BUILDKITE_FIXTURES, type BuildkiteFixtureName, BUILDKITE_TOKENS } from "../../tests/support/buildkite-fixtures";
import { registerBuildkiteToken, signIn, withDatabase } from "./app";
import { e2eBackend, e2eBaseUrl, e2eValue } from "./environment";

export { resetTokenChecks } from "./app";

export type OrgSlug = "acme" | "globex";

// ---------------------------------------------------------------------------------------------------------------
// Organisations and keys

const organizationIds = new Map<string, string>();

export async function organizationId(slug: string): Promise<string> {
  const known = organizationIds.get(slug);
  if (known) return known;
  const id = await withDatabase(async (client) => {
    const { rows } = await client.query<{ id: string }>(`SELECT id FROM organizations WHERE slug = $1`, [slug]);
    return rows[0]?.id;
  });
  if (!id) throw new Error(`no organisation ${slug} in the e2e database`);
  organizationIds.set(slug, id);
  return id;
}

export type TestKey = { key: string; id: string; name: string; organizationId: string };

/**
 * An API key of `slug`, inserted as createApiKey stores one (lib/api-keys/api-keys.ts imports "server-only", so the
 * row is written here with the same key format and hash). `expiresAt` in the past makes an expired key; `revoked`
 * a revoked one.
 */
export async function createTestKey(slug: string, options: { name?: string; expiresAt?: Date | null; revoked?: boolean } = {}): Promise<TestKey> {
  const { key, displayPrefix, keyHash } = generateApiKey();
  const id = randomUUID();
  const name = options.name ?? `e2e ${slug} key ${id.slice(0, 8)}`;
  const orgId = await organizationId(slug);
  await withDatabase((client) =>
    client.query(
      `INSERT INTO api_keys (id, organization_id, name, display_prefix, key_hash, created_by_id, created_at, expires_at, revoked_at)
       VALUES ($1, $2, $3, $4, $5,
               (SELECT m.user_id FROM memberships m WHERE m.organization_id = $2 AND m.role = 'admin' ORDER BY m.user_id LIMIT 1),
               (now() AT TIME ZONE 'UTC'),
               ($6::timestamptz AT TIME ZONE 'UTC'),
               CASE WHEN $7::boolean THEN (now() AT TIME ZONE 'UTC') END)`,
      [id, orgId, name, displayPrefix, keyHash, options.expiresAt?.toISOString() ?? null, options.revoked ?? false],
    ),
  );
  return { key, id, name, organizationId: orgId };
}

// ---------------------------------------------------------------------------------------------------------------
// Paths

export const apiPaths = {
  connection: (orgId: string) => `/api/v1/organizations/${orgId}/integrations/buildkite`,
  verify: (orgId: string) => `/api/v1/organizations/${orgId}/integrations/buildkite/verify`,
  diagnostics: (orgId: string) => `/api/v1/organizations/${orgId}/integrations/buildkite/diagnostics`,
  auditEvents: (orgId: string) => `/api/v1/organizations/${orgId}/audit-events`,
};

export const OPENAPI_PATH = "/api/v1/openapi.json";

// ---------------------------------------------------------------------------------------------------------------
// The contract: the OpenAPI document the running app serves, compiled with Ajv (JSON Schema 2020-12, which is
// OpenAPI 3.1's schema dialect).

/* eslint-disable @typescript-eslint/no-explicit-any -- an OpenAPI document and JSON bodies are untyped JSON */
export type OpenApiDocument = Record<string, any>;

export type Contract = {
  document: OpenApiDocument;
  ajv: Ajv2020;
  /** The validator for a JSON pointer into the document (compiled once). Throws when the schema does not compile. */
  validator(pointer: string): ValidateFunction;
};

export const DOCUMENT_ID = "https://gitar.invalid/api/v1/openapi.json";

/** JSON pointer escaping (RFC 6901), plus percent-encoding for use in a URI fragment. */
export const pointerToken = (token: string) => encodeURIComponent(token.replace(/~/g, "~0").replace(/\//g, "~1"));

const DATE_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)$/i;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ajv in strict mode, so a keyword that is neither JSON Schema 2020-12 nor OpenAPI 3.1's own is an error. */
export function createContract(document: OpenApiDocument): Contract {
  const ajv = new Ajv2020({ strict: true, allErrors: true, validateFormats: true });
  // OpenAPI 3.1's Schema Object dialect adds these to JSON Schema 2020-12 (OAS 3.1 §4.8.24).
  for (const keyword of ["example", "discriminator", "xml", "externalDocs"]) ajv.addKeyword(keyword);
  // The document's own top-level fields are not schema keywords: the document is added only so its schemas can be
  // reached by JSON pointer, with their $refs (#/components/schemas/…) resolving inside it.
  for (const field of ["openapi", "info", "servers", "security", "paths", "components", "webhooks", "tags", "jsonSchemaDialect"]) {
    ajv.addKeyword(field);
  }
  ajv.addFormat("date-time", { type: "string", validate: (value: string) => DATE_TIME.test(value) && !Number.isNaN(Date.parse(value)) });
  ajv.addFormat("uuid", { type: "string", validate: (value: string) => UUID.test(value) });
  ajv.addSchema({ ...document, $id: DOCUMENT_ID });
  const compiled = new Map<string, ValidateFunction>();
  return {
    document,
    ajv,
    validator(pointer) {
      let validate = compiled.get(pointer);
      if (!validate) {
        validate = ajv.getSchema(`${DOCUMENT_ID}#${pointer}`);
        if (!validate) throw new Error(`no schema at ${pointer}`);
        compiled.set(pointer, validate);
      }
      return validate;
    },
  };
}

let loaded: Promise<Contract> | undefined;

/** The document the app serves, fetched once per worker. */
export function contract(): Promise<Contract> {
  loaded ??= (async () => {
    const response = await fetch(`${e2eBaseUrl}${OPENAPI_PATH}`);
    if (response.status !== 200) throw new Error(`${OPENAPI_PATH} answered ${response.status}`);
    return createContract((await response.json()) as OpenApiDocument);
  })();
  return loaded;
}

/** The document's path template and operation for a concrete request, if it documents one. */
export function findOperation(document: OpenApiDocument, method: string, requestPath: string) {
  const lower = method.toLowerCase();
  for (const [template, item] of Object.entries<Record<string, any>>(document.paths ?? {})) {
    const pattern = new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\\?\{[^}]+\\?\}/g, "[^/]+")}$`);
    if (pattern.test(requestPath) && item[lower]) return { template, method: lower, operation: item[lower] as Record<string, any> };
  }
  return undefined;
}

export type SeenResponse = { method: string; path: string; status: number; headers: Record<string, string>; text: string };

const mediaType = (contentType: string | undefined) => (contentType ?? "").split(";")[0]!.trim().toLowerCase();

/**
 * Everything wrong with one response, measured against the operation the document gives for its method and path:
 * the status must be documented, the content type must be one documented for that status and the body must match
 * its schema; headers the document marks required must be there; a problem's `status` must be the HTTP status; and
 * every answer must be `Cache-Control: no-store`, as the document promises.
 */
export function contractViolations(contract: Contract, response: SeenResponse): string[] {
  const where = `${response.method} ${response.path} → ${response.status}`;
  const violations: string[] = [];
  if (!/\bno-store\b/i.test(response.headers["cache-control"] ?? "")) {
    violations.push(`${where}: Cache-Control is ${JSON.stringify(response.headers["cache-control"] ?? null)}, not no-store`);
  }
  const found = findOperation(contract.document, response.method, response.path);
  if (!found) return [...violations, `${where}: the document has no such operation`];
  const { template, method, operation } = found;
  const documented = operation.responses?.[String(response.status)] ?? operation.responses?.default;
  if (!documented) {
    return [
      ...violations,
      `${where}: status ${response.status} is not documented for ${operation.operationId} (documented: ${Object.keys(operation.responses ?? {}).join(", ")})`,
    ];
  }
  const statusKey = operation.responses[String(response.status)] ? String(response.status) : "default";

  for (const [name, header] of Object.entries<Record<string, any>>(documented.headers ?? {})) {
    if (header.required && response.headers[name.toLowerCase()] === undefined) violations.push(`${where}: required header ${name} is missing`);
  }

  const content: Record<string, any> | undefined = documented.content;
  const type = mediaType(response.headers["content-type"]);
  if (!content || Object.keys(content).length === 0) {
    if (response.text.length > 0) violations.push(`${where}: the document says no body, but one came (${type})`);
    return violations;
  }
  if (!content[type]) {
    return [...violations, `${where}: content type ${JSON.stringify(type)} is not documented (documented: ${Object.keys(content).join(", ")})`];
  }
  let body: unknown;
  try {
    body = JSON.parse(response.text);
  } catch {
    return [...violations, `${where}: the body is not JSON (${response.text.slice(0, 80)})`];
  }
  const pointer = ["", "paths", template, method, "responses", statusKey, "content", type, "schema"].map(pointerToken).join("/");
  let validate: ValidateFunction;
  try {
    validate = contract.validator(pointer);
  } catch (error) {
    return [...violations, `${where}: the documented schema does not compile: ${(error as Error).message}`];
  }
  if (!validate(body)) {
    violations.push(
      `${where}: the body does not match the documented schema: ${(validate.errors ?? [])
        .slice(0, 8)
        .map((error) => `${error.instancePath || "(body)"} ${error.message}${error.params ? ` ${JSON.stringify(error.params)}` : ""}`)
        .join("; ")}`,
    );
  }
  if (type === "application/problem+json" && (body as { status?: unknown }).status !== response.status) {
    violations.push(`${where}: the problem's status is ${JSON.stringify((body as { status?: unknown }).status)}`);
  }
  return violations;
}

// ---------------------------------------------------------------------------------------------------------------
// Calling the API

export type ApiCaller = {
  request: APIRequestContext;
  /** Sent as `Authorization: Bearer <key>`. */
  key?: string;
  /** Sent as the Authorization header as it is (for malformed headers). */
  authorization?: string;
  /** For messages. */
  label?: string;
};

export type CallOptions = {
  /** Sent as JSON (`Content-Type: application/json`) unless `contentType` says otherwise. */
  json?: unknown;
  /** Sent as it is. */
  body?: string | Buffer;
  contentType?: string;
  idempotencyKey?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
};

export type ApiResult = {
  status: number;
  headers: Record<string, string>;
  text: string;
  /** The parsed body (JSON or problem+json), or undefined when there is none. */
  body: any;
};

const seen: SeenResponse[] = [];

/** Every API response this worker has seen (the leak test searches them), headers and bodies as received. */
export const responsesSeen = (): readonly SeenResponse[] => seen;

/**
 * One API call. Its response is read in full (a body that cannot be read fails the test), recorded, and checked
 * against the OpenAPI document: an undocumented status or a body that does not match fails the test.
 */
export async function apiCall(caller: ApiCaller, method: string, requestPath: string, options: CallOptions = {}): Promise<ApiResult> {
  const headers: Record<string, string> = { ...options.headers };
  if (caller.key !== undefined) headers.authorization = `Bearer ${caller.key}`;
  if (caller.authorization !== undefined) headers.authorization = caller.authorization;
  if (options.idempotencyKey !== undefined) headers["idempotency-key"] = options.idempotencyKey;
  // Always bytes: given a string and a JSON content type, Playwright would JSON-encode a string that is not valid
  // JSON, so a malformed body would arrive as a well-formed JSON string.
  let data: Buffer | undefined = typeof options.body === "string" ? Buffer.from(options.body, "utf8") : options.body;
  if (options.json !== undefined) data = Buffer.from(JSON.stringify(options.json), "utf8");
  if (data !== undefined) headers["content-type"] = options.contentType ?? "application/json";
  const query = options.query ? `?${new URLSearchParams(options.query).toString()}` : "";
  const response = await caller.request.fetch(`${requestPath}${query}`, {
    method,
    headers,
    ...(data !== undefined ? { data } : {}),
    failOnStatusCode: false,
    maxRedirects: 0,
  });
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    throw new Error(`the body of ${method} ${requestPath}${query} (${response.status()}) could not be read: ${(error as Error).message}`);
  }
  const result: SeenResponse = { method, path: requestPath, status: response.status(), headers: response.headers(), text };
  seen.push({ ...result, path: `${requestPath}${query}` });
  const violations = contractViolations(await contract(), result);
  expect(violations, `${caller.label ?? "caller"}: the response breaks the OpenAPI contract`).toEqual([]);
  let body: unknown;
  if (text.length > 0) {
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
  }
  return { status: result.status, headers: result.headers, text, body };
}

/** The API, bound to a caller and an organisation. */
export function apiFor(caller: ApiCaller, orgId: string) {
  return {
    caller,
    orgId,
    getConnection: (options?: CallOptions) => apiCall(caller, "GET", apiPaths.connection(orgId), options),
    putConnection: (json: unknown, options: CallOptions = {}) => apiCall(caller, "PUT", apiPaths.connection(orgId), { json, ...options }),
    deleteConnection: (options?: CallOptions) => apiCall(caller, "DELETE", apiPaths.connection(orgId), options),
    verify: (options?: CallOptions) => apiCall(caller, "POST", apiPaths.verify(orgId), options),
    diagnostics: (options?: CallOptions) => apiCall(caller, "POST", apiPaths.diagnostics(orgId), options),
    auditEvents: (query?: Record<string, string>, options: CallOptions = {}) => apiCall(caller, "GET", apiPaths.auditEvents(orgId), { ...options, query }),
  };
}

export type Api = ReturnType<typeof apiFor>;

/** An API client with a fresh key of `slug`. */
export async function apiWithKey(request: APIRequestContext, slug: OrgSlug, options: { name?: string } = {}) {
  const key = await createTestKey(slug, options);
  return { ...apiFor({ request, key: key.key, label: `key of ${slug}` }, key.organizationId), key };
}

/** A browser session of a demo account (signed in through the page), whose cookies the returned request carries. */
export async function signedInCaller(browser: Browser, email: string): Promise<{ caller: ApiCaller; close(): Promise<void> }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, email);
  return { caller: { request: context.request, label: `session of ${email}` }, close: () => context.close() };
}

/** Asserts a problem response: its status, code, and the RFC 9457 members. */
export function expectProblem(result: ApiResult, status: number, code: string) {
  expect(result.status, `${code}: ${result.text}`).toBe(status);
  expect(result.headers["content-type"]).toMatch(/^application\/problem\+json/);
  expect(result.body).toMatchObject({ status, code, type: expect.any(String), title: expect.any(String), detail: expect.any(String) });
  expect(result.body.title.length).toBeGreaterThan(0);
  expect(result.body.detail.length).toBeGreaterThan(0);
}
/* eslint-enable @typescript-eslint/no-explicit-any */

// ---------------------------------------------------------------------------------------------------------------
// The stand-ins and the state a call may change

/** Puts a fixture token back as tests/support/buildkite-fixtures.ts defines it (also forgetting a revocation). */
export async function restoreFixture(name: BuildkiteFixtureName) {
  await registerBuildkiteToken(BUILDKITE_TOKENS[name], BUILDKITE_FIXTURES[name] as unknown as Record<string, unknown>);
}

/** Delay on every Buildkite (stand-in) answer, to keep a request running while another arrives. */
export async function setBuildkiteLatency(ms: number) {
  const response = await fetch(`${e2eValue("E2E_BUILDKITE_URL")}/__stand-in/latency`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ms }),
  });
  expect(response.status).toBeLessThan(300);
}

/** The connection row as JSON (every column), or null. */
export async function connectionRow(slug: string): Promise<Record<string, unknown> | null> {
  return withDatabase(async (client) => {
    const { rows } = await client.query<{ row: Record<string, unknown> }>(
      `SELECT row_to_json(c) AS row FROM buildkite_connections c JOIN organizations o ON o.id = c.organization_id WHERE o.slug = $1`,
      [slug],
    );
    return rows[0]?.row ?? null;
  });
}

async function* filesUnder(directory: string): AsyncGenerator<string> {
  const entries = await readdir(directory, { withFileTypes: true }).catch(() => []);
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) yield* filesUnder(full);
    else yield full;
  }
}

/** What the secret store holds: the AWS stand-in's secrets, or the local store's files (names, sizes and hashes). */
export async function secretStoreSnapshot(): Promise<string> {
  if (e2eBackend === "aws") return (await fetch(`${e2eValue("E2E_SECRETS_MANAGER_URL")}/__stand-in/secrets`)).text();
  const root = path.join(e2eValue("E2E_DATA_DIR"), "secrets");
  const lines: string[] = [];
  for await (const file of filesUnder(root)) {
    const content = await readFile(file);
    lines.push(`${path.relative(root, file)} ${(await stat(file)).size} ${createHash("sha256").update(content).digest("hex")}`);
  }
  return lines.join("\n");
}

/** Everything a refused call must leave as it was: the connection row and the secret store. */
export async function changeableState(slug: string) {
  return { connection: await connectionRow(slug), secrets: await secretStoreSnapshot() };
}

export type AuditRow = { id: string; action: string; outcome: string; code: string | null; actor_type: string; actor_label: string | null; actor_email: string | null };

export async function auditRows(slug: OrgSlug): Promise<AuditRow[]> {
  return withDatabase(async (client) => {
    const { rows } = await client.query<AuditRow>(
      `SELECT a.id, a.action, a.outcome, a.code, a.actor_type, a.actor_label, a.actor_email FROM audit_events a
       JOIN organizations o ON o.id = a.organization_id WHERE o.slug = $1 ORDER BY a.created_at, a.id`,
      [slug],
    );
    return rows;
  });
}

/** The audit events written since `before` (a previous auditRows). */
export async function auditRowsSince(slug: OrgSlug, before: readonly AuditRow[]): Promise<AuditRow[]> {
  const known = new Set(before.map((row) => row.id));
  return (await auditRows(slug)).filter((row) => !known.has(row.id));
}
