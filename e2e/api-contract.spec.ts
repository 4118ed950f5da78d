// The OpenAPI document the app serves: a valid OpenAPI 3.1 document whose schemas compile, and a contract the real
// responses keep. Every API spec's calls go through e2e/support/api.ts, which checks each response against this
// document; the tests here check the document itself, and that the checker catches what it must.
import { expect, test } from "@playwright/test";
import Ajv2020 from "ajv/dist/2020.js";
import { freshBuildkiteToken } from "./support/app";
import {
  apiCall,
  apiPaths,
  apiWithKey,
  contract,
  contractViolations,
  createContract,
  createTestKey,
  expectProblem,
  findOperation,
  OPENAPI_PATH,
  organizationId,
  resetTokenChecks,
  type OpenApiDocument,
  type SeenResponse,
} from "./support/api";
import { disconnectOrganization } from "./support/app";
import { e2eBaseUrl } from "./support/environment";

/* eslint-disable @typescript-eslint/no-explicit-any -- the document is untyped JSON */

const ORGANIZATION_PATHS = [
  "/api/v1/organizations/{organizationId}/integrations/buildkite",
  "/api/v1/organizations/{organizationId}/integrations/buildkite/verify",
  "/api/v1/organizations/{organizationId}/integrations/buildkite/diagnostics",
  "/api/v1/organizations/{organizationId}/audit-events",
] as const;
const OPERATIONS = [
  ["get", ORGANIZATION_PATHS[0]],
  ["put", ORGANIZATION_PATHS[0]],
  ["delete", ORGANIZATION_PATHS[0]],
  ["post", ORGANIZATION_PATHS[1]],
  ["post", ORGANIZATION_PATHS[2]],
  ["get", ORGANIZATION_PATHS[3]],
] as const;

/**
 * The parts of OpenAPI 3.1 (spec.openapis.org/oas/v3.1.0) this API and its clients rely on, as a JSON Schema: the
 * official schema cannot be fetched here, so this checks the structure field by field, refusing unknown fields
 * (other than x- extensions) wherever the specification does.
 */
const reference = { type: "object", required: ["$ref"], properties: { $ref: { type: "string" }, summary: { type: "string" }, description: { type: "string" } }, additionalProperties: false };
const schemaObject = { type: ["object", "boolean"] };
const OPENAPI_31_STRUCTURE = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  type: "object",
  required: ["openapi", "info", "paths"],
  patternProperties: { "^x-": true },
  properties: {
    openapi: { type: "string", pattern: "^3\\.1\\.\\d+(-.+)?$" },
    info: {
      type: "object",
      required: ["title", "version"],
      patternProperties: { "^x-": true },
      properties: { title: { type: "string", minLength: 1 }, summary: { type: "string" }, description: { type: "string" }, version: { type: "string", minLength: 1 } },
      additionalProperties: false,
    },
    jsonSchemaDialect: { type: "string" },
    servers: { type: "array", items: { $ref: "#/$defs/server" } },
    security: { type: "array", items: { $ref: "#/$defs/securityRequirement" } },
    paths: { type: "object", propertyNames: { pattern: "^/" }, additionalProperties: { $ref: "#/$defs/pathItem" } },
    components: {
      type: "object",
      patternProperties: { "^x-": true },
      properties: {
        schemas: { type: "object", propertyNames: { pattern: "^[a-zA-Z0-9._-]+$" }, additionalProperties: schemaObject },
        securitySchemes: {
          type: "object",
          additionalProperties: {
            type: "object",
            required: ["type"],
            properties: { type: { enum: ["apiKey", "http", "mutualTLS", "oauth2", "openIdConnect"] }, scheme: { type: "string" }, description: { type: "string" }, bearerFormat: { type: "string" }, name: { type: "string" }, in: { enum: ["query", "header", "cookie"] } },
            if: { properties: { type: { const: "http" } } },
            then: { required: ["scheme"] },
          },
        },
      },
      additionalProperties: false,
    },
    tags: { type: "array" },
    externalDocs: { type: "object" },
    webhooks: { type: "object" },
  },
  additionalProperties: false,
  $defs: {
    server: { type: "object", required: ["url"], properties: { url: { type: "string" }, description: { type: "string" }, variables: { type: "object" } }, additionalProperties: false },
    securityRequirement: { type: "object", additionalProperties: { type: "array", items: { type: "string" } } },
    pathItem: {
      type: "object",
      patternProperties: { "^(get|put|post|delete|options|head|patch|trace)$": { $ref: "#/$defs/operation" }, "^x-": true },
      properties: { summary: { type: "string" }, description: { type: "string" }, parameters: { type: "array", items: { $ref: "#/$defs/parameter" } } },
      additionalProperties: false,
    },
    operation: {
      type: "object",
      required: ["responses"],
      patternProperties: { "^x-": true },
      properties: {
        operationId: { type: "string" },
        summary: { type: "string" },
        description: { type: "string" },
        tags: { type: "array", items: { type: "string" } },
        parameters: { type: "array", items: { anyOf: [reference, { $ref: "#/$defs/parameter" }] } },
        requestBody: {
          type: "object",
          required: ["content"],
          properties: { description: { type: "string" }, required: { type: "boolean" }, content: { $ref: "#/$defs/content" } },
          additionalProperties: false,
        },
        responses: {
          type: "object",
          minProperties: 1,
          propertyNames: { pattern: "^([1-5](\\d\\d|XX)|default)$" },
          additionalProperties: { anyOf: [reference, { $ref: "#/$defs/response" }] },
        },
        security: { type: "array", items: { $ref: "#/$defs/securityRequirement" } },
        deprecated: { type: "boolean" },
      },
      additionalProperties: false,
    },
    parameter: {
      type: "object",
      required: ["name", "in"],
      patternProperties: { "^x-": true },
      properties: {
        name: { type: "string", minLength: 1 },
        in: { enum: ["query", "header", "path", "cookie"] },
        description: { type: "string" },
        required: { type: "boolean" },
        deprecated: { type: "boolean" },
        style: { type: "string" },
        explode: { type: "boolean" },
        schema: schemaObject,
        content: { $ref: "#/$defs/content" },
        example: true,
        examples: { type: "object" },
      },
      oneOf: [{ required: ["schema"] }, { required: ["content"] }],
      if: { properties: { in: { const: "path" } } },
      then: { required: ["required"], properties: { required: { const: true } } },
      additionalProperties: false,
    },
    response: {
      type: "object",
      required: ["description"],
      patternProperties: { "^x-": true },
      properties: {
        description: { type: "string" },
        headers: {
          type: "object",
          additionalProperties: {
            type: "object",
            properties: { description: { type: "string" }, required: { type: "boolean" }, deprecated: { type: "boolean" }, schema: schemaObject, content: { $ref: "#/$defs/content" }, example: true, examples: { type: "object" }, style: { const: "simple" }, explode: { type: "boolean" } },
            oneOf: [{ required: ["schema"] }, { required: ["content"] }],
            additionalProperties: false,
          },
        },
        content: { $ref: "#/$defs/content" },
        links: { type: "object" },
      },
      additionalProperties: false,
    },
    content: {
      type: "object",
      additionalProperties: {
        type: "object",
        properties: { schema: schemaObject, example: true, examples: { type: "object" }, encoding: { type: "object" } },
        patternProperties: { "^x-": true },
        additionalProperties: false,
      },
    },
  },
};

/** Every schema object in the document, with where it is. */
function schemaObjects(document: OpenApiDocument): Array<{ where: string; schema: unknown }> {
  const found: Array<{ where: string; schema: unknown }> = [];
  for (const [name, schema] of Object.entries(document.components?.schemas ?? {})) found.push({ where: `#/components/schemas/${name}`, schema });
  for (const [template, item] of Object.entries<Record<string, any>>(document.paths)) {
    for (const [method, operation] of Object.entries<Record<string, any>>(item)) {
      for (const parameter of operation.parameters ?? []) found.push({ where: `${method} ${template} parameter ${parameter.name}`, schema: parameter.schema });
      for (const [type, media] of Object.entries<Record<string, any>>(operation.requestBody?.content ?? {})) found.push({ where: `${method} ${template} request ${type}`, schema: media.schema });
      for (const [status, response] of Object.entries<Record<string, any>>(operation.responses)) {
        for (const [type, media] of Object.entries<Record<string, any>>(response.content ?? {})) found.push({ where: `${method} ${template} ${status} ${type}`, schema: media.schema });
        for (const [name, header] of Object.entries<Record<string, any>>(response.headers ?? {})) found.push({ where: `${method} ${template} ${status} header ${name}`, schema: header.schema });
      }
    }
  }
  return found;
}

/** Every `$ref` in the document, with where it is. */
function refs(value: unknown, where = "#"): Array<{ where: string; ref: string }> {
  if (Array.isArray(value)) return value.flatMap((item, index) => refs(item, `${where}/${index}`));
  if (!value || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([key, item]) =>
    key === "$ref" && typeof item === "string" ? [{ where, ref: item }] : refs(item, `${where}/${key}`),
  );
}

function resolvePointer(document: unknown, pointer: string): unknown {
  return pointer
    .replace(/^#\/?/, "")
    .split("/")
    .filter((part) => part !== "")
    .map((part) => decodeURIComponent(part).replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce<unknown>((node, part) => (node && typeof node === "object" ? (node as Record<string, unknown>)[part] : undefined), document);
}

test.describe("the OpenAPI document", () => {
  test("is served to anyone, as JSON, never cached", async ({ request }) => {
    const response = await request.get(OPENAPI_PATH);
    expect(response.status()).toBe(200);
    expect(response.headers()["content-type"]).toMatch(/^application\/json/);
    expect(response.headers()["cache-control"]).toContain("no-store");
    const document = await response.json();
    expect(document.openapi).toMatch(/^3\.1\.\d+$/);
    expect(Object.keys(document.paths).sort()).toEqual([...ORGANIZATION_PATHS].sort());
  });

  test("is structurally a valid OpenAPI 3.1 document", async () => {
    const { document } = await contract();
    // strictRequired off: the schema's oneOf branches name properties declared beside them, as OpenAPI's own does.
    const structure = new Ajv2020({ strict: true, strictRequired: false, allowUnionTypes: true, allErrors: true });
    const validate = structure.compile(OPENAPI_31_STRUCTURE);
    expect(validate(document), JSON.stringify(validate.errors, null, 1)).toBe(true);

    // Every schema object is a valid JSON Schema 2020-12 schema (OpenAPI 3.1's dialect), by Ajv's own meta-schema.
    const meta = new Ajv2020({ strict: false });
    const invalid = schemaObjects(document).filter(({ schema }) => !meta.validateSchema(schema as object));
    expect(invalid.map(({ where }) => where)).toEqual([]);

    // Every $ref resolves inside the document.
    const dangling = refs(document).filter(({ ref }) => !ref.startsWith("#") || resolvePointer(document, ref) === undefined);
    expect(dangling).toEqual([]);

    // Operation ids are unique, and every path parameter is declared (and only those).
    const ids: string[] = [];
    for (const [template, item] of Object.entries<Record<string, any>>(document.paths)) {
      const inTemplate = [...template.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]).sort();
      for (const [method, operation] of Object.entries<Record<string, any>>(item)) {
        ids.push(operation.operationId);
        const declared = (operation.parameters ?? []).filter((parameter: any) => parameter.in === "path").map((parameter: any) => parameter.name).sort();
        expect(declared, `${method} ${template}`).toEqual(inTemplate);
        const names = (operation.parameters ?? []).map((parameter: any) => `${parameter.in}:${parameter.name}`);
        expect(new Set(names).size, `${method} ${template}: duplicate parameters`).toBe(names.length);
      }
    }
    expect(ids.every((id) => typeof id === "string" && id.length > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);

    // Every security requirement names a declared scheme.
    const schemes = Object.keys(document.components.securitySchemes ?? {});
    for (const requirement of document.security ?? []) expect(schemes).toEqual(expect.arrayContaining(Object.keys(requirement)));
  });

  test("its schemas compile with Ajv 2020 in strict mode, and say what the API sends", async () => {
    const { document, validator } = await contract();
    const names = Object.keys(document.components.schemas);
    expect(names).toEqual(expect.arrayContaining(["Connection", "ConnectRequest", "ConnectResponse", "DisconnectResponse", "VerifyResponse", "DiagnosticsResponse", "AuditEventsResponse", "AuditEvent", "Problem"]));
    for (const name of names) expect(() => validator(`/components/schemas/${name}`), name).not.toThrow();
    // And standalone, one component at a time with the others beside it, as a client generator would.
    const standalone = new Ajv2020({ strict: true, allErrors: true });
    for (const keyword of ["example", "discriminator", "xml", "externalDocs"]) standalone.addKeyword(keyword);
    standalone.addFormat("date-time", true).addFormat("uuid", true);
    const components = JSON.parse(JSON.stringify(document.components.schemas).replaceAll('"#/components/schemas/', '"#/$defs/'));
    for (const name of names) expect(() => standalone.compile({ $defs: components, $ref: `#/$defs/${name}` }), name).not.toThrow();

    // Every response of every operation is described: JSON for results, problem+json (Problem) for failures.
    for (const [method, template] of OPERATIONS) {
      const operation = document.paths[template][method];
      for (const [status, response] of Object.entries<Record<string, any>>(operation.responses)) {
        const types = Object.keys(response.content ?? {});
        if (Number(status) < 400) {
          expect(types, `${operation.operationId} ${status}`).toEqual(["application/json"]);
        } else {
          expect(types, `${operation.operationId} ${status}`).toEqual(["application/problem+json"]);
          expect(response.content["application/problem+json"].schema).toEqual({ $ref: "#/components/schemas/Problem" });
        }
      }
      // What any organisation endpoint may answer.
      expect(Object.keys(operation.responses), operation.operationId).toEqual(expect.arrayContaining(["200", "401", "403", "404", "429", "500"]));
      expect(operation.responses["429"].headers?.["retry-after"]?.required, `${operation.operationId}: 429 says when to retry`).toBe(true);
    }

    const validate = (name: string, value: unknown) => validator(`/components/schemas/${name}`)(value);
    expect(validate("Connection", { status: "not_connected" })).toBe(true);
    expect(validate("Problem", { type: "/api/v1/problems/not_found", title: "Not found", status: 404, detail: "…", code: "not_found", extra: [1] })).toBe(true);
    expect(validate("Problem", { title: "Not found", status: 404, detail: "…", code: "not_found" })).toBe(false);
    // No field the document does not name can ride along in a connection (such as the token itself).
    expect(validate("Connection", { status: "not_connected", token: "bkua_x" })).toBe(false);
    expect(validate("AuditEventsResponse", { events: [], nextCursor: null })).toBe(true);
  });

  test("the contract checker refuses responses the document does not allow", async () => {
    const checker = await contract();
    const orgId = await organizationId("acme");
    const base: SeenResponse = {
      method: "GET",
      path: apiPaths.connection(orgId),
      status: 200,
      headers: { "content-type": "application/json", "cache-control": "no-store" },
      text: JSON.stringify({ status: "not_connected" }),
    };
    expect(contractViolations(checker, base)).toEqual([]);
    const problem = (status: number) => JSON.stringify({ type: "/x", title: "x", status, detail: "x", code: "x" });
    const cases: Array<[string, Partial<SeenResponse>, RegExp]> = [
      ["an undocumented status", { status: 418, headers: { "content-type": "application/problem+json", "cache-control": "no-store" }, text: problem(418) }, /not documented/],
      ["an undocumented content type", { headers: { "content-type": "text/html", "cache-control": "no-store" }, text: "<html>" }, /content type/],
      ["a body off the schema", { text: JSON.stringify({ status: "connected" }) }, /does not match/],
      ["a body that is not JSON", { text: "{" }, /not JSON/],
      ["no Cache-Control", { headers: { "content-type": "application/json" } }, /Cache-Control/],
      ["a 429 without Retry-After", { status: 429, headers: { "content-type": "application/problem+json", "cache-control": "no-store" }, text: problem(429) }, /retry-after/],
      ["a problem whose status differs", { status: 404, headers: { "content-type": "application/problem+json", "cache-control": "no-store" }, text: problem(400) }, /problem's status/],
      ["an operation the document lacks", { method: "PATCH" }, /no such operation/],
      ["an unknown path", { path: "/api/v1/nothing" }, /no such operation/],
    ];
    for (const [what, change, expected] of cases) {
      const violations = contractViolations(checker, { ...base, ...change });
      expect(violations.join("\n"), what).toMatch(expected);
    }
    // The checker matches concrete paths to their templates, and only those.
    expect(findOperation(checker.document, "POST", apiPaths.verify(orgId))?.operation.operationId).toBe("verifyBuildkiteConnection");
    expect(findOperation(checker.document, "GET", `${apiPaths.connection(orgId)}/extra`)).toBeUndefined();
    // A checker made from a document that lacks an operation's status refuses it.
    const trimmed = structuredClone(checker.document);
    delete trimmed.paths[ORGANIZATION_PATHS[0]].get.responses["200"];
    expect(contractViolations(createContract(trimmed), base).join("\n")).toMatch(/status 200 is not documented/);
  });

  test("every operation answers within the contract, with a key", async ({ request }) => {
    await disconnectOrganization("acme");
    await resetTokenChecks();
    const api = await apiWithKey(request, "acme");
    expect((await api.getConnection()).body).toEqual({ status: "not_connected" });
    expectProblem(await api.verify(), 404, "not_connected");
    expectProblem(await api.diagnostics(), 404, "not_connected");
    expectProblem(await api.deleteConnection(), 404, "not_connected");
    expect((await api.putConnection({ token: await freshBuildkiteToken() })).status).toBe(201);
    expect((await api.getConnection()).body.status).toBe("connected");
    expect((await api.verify()).status).toBe(200);
    expect((await api.diagnostics()).status).toBe(200);
    expect((await api.putConnection({ token: await freshBuildkiteToken() })).status).toBe(200);
    expect((await api.auditEvents({ limit: "5" })).status).toBe(200);
    expect((await api.deleteConnection({ query: { revokeAtBuildkite: "false" } })).status).toBe(200);
  });

  test("parameters the document allows are accepted, and those it refuses are refused", async ({ request }) => {
    const { document, ajv } = await contract();
    const api = await apiWithKey(request, "acme");
    const parameterSchema = (method: string, template: string, name: string) =>
      ajv.compile(document.paths[template][method].parameters.find((parameter: any) => parameter.name === name).schema);

    // audit-events: limit 1…200, action one of the audit actions.
    const limit = parameterSchema("get", ORGANIZATION_PATHS[3], "limit");
    for (const value of ["1", "200", "0", "201", "1.5", "ten"]) {
      const allowed = limit(Number(value)) && /^\d+$/.test(value);
      const result = await api.auditEvents({ limit: value });
      expect(result.status, `limit=${value}`).toBe(allowed ? 200 : 400);
    }
    const action = parameterSchema("get", ORGANIZATION_PATHS[3], "action");
    for (const value of ["buildkite.connect", "api_key.revoke", "buildkite.nothing"]) {
      expect((await api.auditEvents({ action: value })).status, `action=${value}`).toBe(action(value) ? 200 : 400);
    }
    // An unknown query parameter is refused.
    expectProblem(await api.auditEvents({ since: "yesterday" }), 400, "validation_failed");

    // DELETE: revokeAtBuildkite and force are "true" or "false".
    await disconnectOrganization("acme");
    const flag = parameterSchema("delete", ORGANIZATION_PATHS[0], "force");
    for (const value of ["true", "false", "yes", "1"]) {
      const result = await api.deleteConnection({ query: { force: value } });
      // Nothing is connected: an accepted query reaches the handler, which answers not_connected.
      if (flag(value)) expectProblem(result, 404, "not_connected");
      else expectProblem(result, 400, "validation_failed");
    }
  });

  test("the Idempotency-Key schema refuses the keys the API refuses", async ({ request }) => {
    // The document says a key is any string of 1 to 255 characters; the API takes only visible ASCII
    // (lib/api/idempotency.ts KEY_PATTERN) and answers 400 invalid_idempotency_key to the rest.
    const { document, ajv } = await contract();
    const header = document.paths[ORGANIZATION_PATHS[0]].put.parameters.find((parameter: any) => parameter.in === "header" && parameter.name === "idempotency-key");
    const documented = ajv.compile(header.schema);
    const api = await apiWithKey(request, "acme");
    await disconnectOrganization("acme");
    const refusedByTheApi: string[] = [];
    for (const key of ["a-plain-key", "with space", "ünïcode", "x".repeat(255)]) {
      const result = await api.deleteConnection({ idempotencyKey: key });
      if (result.body?.code === "invalid_idempotency_key") refusedByTheApi.push(key);
      else expectProblem(result, 404, "not_connected");
    }
    expect(refusedByTheApi.length).toBeGreaterThan(0);
    expect(
      refusedByTheApi.filter((key) => documented(key)),
      "keys the document allows but the API refuses with 400 invalid_idempotency_key",
    ).toEqual([]);
  });

  test("the headers the API answers with are documented", async ({ request, playwright }) => {
    // A client generated from the document should learn of WWW-Authenticate (401), Retry-After (every 409 that
    // sends it) and Idempotent-Replayed (a replay).
    const { document } = await contract();
    const orgId = await organizationId("acme");
    const anonymous = await playwright.request.newContext({ baseURL: e2eBaseUrl });
    const undocumented: string[] = [];
    const check = (method: string, path: string, status: number, headers: Record<string, string>, names: string[]) => {
      const found = findOperation(document, method, path);
      const documented = Object.keys(found?.operation.responses[String(status)]?.headers ?? {}).map((name) => name.toLowerCase());
      for (const name of names) {
        if (headers[name] !== undefined && !documented.includes(name)) undocumented.push(`${found?.operation.operationId} ${status}: ${name}`);
      }
    };
    try {
      const refused = await apiCall({ request: anonymous, label: "anonymous" }, "GET", apiPaths.connection(orgId));
      expect(refused.headers["www-authenticate"]).toBeDefined();
      check("GET", apiPaths.connection(orgId), refused.status, refused.headers, ["www-authenticate"]);

      await disconnectOrganization("acme");
      const api = await apiWithKey(request, "acme");
      const key = `contract-replay-${Date.now()}`;
      await api.deleteConnection({ idempotencyKey: key });
      const replay = await api.deleteConnection({ idempotencyKey: key });
      expect(replay.headers["idempotent-replayed"]).toBe("true");
      check("DELETE", apiPaths.connection(orgId), replay.status, replay.headers, ["idempotent-replayed"]);

      const bad = await apiCall({ request, key: (await createTestKey("acme", { revoked: true })).key }, "POST", apiPaths.verify(orgId));
      check("POST", apiPaths.verify(orgId), bad.status, bad.headers, ["www-authenticate"]);
    } finally {
      await anonymous.dispose();
    }
    expect(undocumented, "headers the API sends that the document does not declare").toEqual([]);
  });
});
