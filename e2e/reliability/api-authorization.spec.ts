// Who may call the API: every kind of caller × every endpoint. Only an admin's session and the organisation's own
// key get through; no credentials or a bad key → 401 with WWW-Authenticate; a member → 403 (audited where it would
// have acted); another organisation's key or admin → 404 that tells nothing. A refused call changes nothing: the
// connection row and the secret store are the same before and after.
import { expect, request as playwrightRequest, test } from "@playwright/test";
import { generateApiKey } from "../../lib/api-keys/key-format";
import { disconnectOrganization, freshBuildkiteToken } from "../support/app";
import {
  apiFor,
  apiWithKey,
  auditRows,
  auditRowsSince,
  changeableState,
  connectionRow,
  createTestKey,
  expectProblem,
  organizationId,
  resetTokenChecks,
  signedInCaller,
  type Api,
  type ApiCaller,
  type ApiResult,
} from "../support/api";
import { e2eBaseUrl } from "../support/environment";

type Expected =
  | { kind: "allowed"; actor: { type: "person"; email: string } | { type: "api_key" } }
  | { kind: "unauthenticated"; code: "unauthenticated" | "invalid_api_key" }
  | { kind: "forbidden"; audited: string }
  | { kind: "hidden" };

type Principal = { name: string; caller: () => ApiCaller; expected: Expected };

type Endpoint = {
  name: string;
  /** What the audit log calls it, when it acts on the connection. */
  action: string | null;
  call: (api: Api) => Promise<ApiResult>;
  /** Run after an allowed call so the next caller finds the connection again. */
  restore?: () => Promise<void>;
};

let ownKeyApi: Awaited<ReturnType<typeof apiWithKey>>;
const closers: Array<() => Promise<void>> = [];
const principals: Principal[] = [];

/** Connected, with a token only this test knows. */
async function connectAcme() {
  const result = await ownKeyApi.putConnection({ token: await freshBuildkiteToken() });
  expect(result.status, result.text).toBe(201);
}

const ENDPOINTS: Endpoint[] = [
  { name: "GET connection", action: null, call: (api) => api.getConnection() },
  // A fresh, valid token: were the caller let through, this would rotate.
  { name: "PUT connection", action: "buildkite.connect", call: async (api) => api.putConnection({ token: await freshBuildkiteToken() }) },
  // Revoking by default: were the caller let through, this would disconnect and revoke.
  { name: "DELETE connection", action: "buildkite.disconnect", call: (api) => api.deleteConnection(), restore: connectAcme },
  { name: "POST verify", action: "buildkite.verify", call: (api) => api.verify() },
  { name: "POST diagnostics", action: "buildkite.diagnostics", call: (api) => api.diagnostics() },
  { name: "GET audit-events", action: null, call: (api) => api.auditEvents() },
];

test.beforeAll(async ({ browser }) => {
  const { request: keyRequest, dispose: disposeKeyRequest } = await newRequest();
  closers.push(disposeKeyRequest);
  ownKeyApi = await apiWithKey(keyRequest, "acme", { name: "authorization matrix key" });

  const anonymous = await newRequest();
  closers.push(anonymous.dispose);
  const member = await signedInCaller(browser, "member@acme.test");
  const admin = await signedInCaller(browser, "admin@acme.test");
  const globexAdmin = await signedInCaller(browser, "admin@globex.test");
  closers.push(member.close, admin.close, globexAdmin.close);
  const revoked = await createTestKey("acme", { revoked: true });
  const expired = await createTestKey("acme", { expiresAt: new Date(Date.now() - 60_000) });
  const globexKey = await createTestKey("globex");
  const unknown = generateApiKey().key;
  const bare = (label: string, extra: Partial<ApiCaller>) => () => ({ request: anonymous.request, label, ...extra });

  principals.push(
    { name: "anonymous", caller: bare("anonymous", {}), expected: { kind: "unauthenticated", code: "unauthenticated" } },
    { name: "a member's session", caller: () => member.caller, expected: { kind: "forbidden", audited: "member@acme.test" } },
    { name: "an admin's session", caller: () => admin.caller, expected: { kind: "allowed", actor: { type: "person", email: "admin@acme.test" } } },
    { name: "the organisation's own key", caller: () => ownKeyApi.caller, expected: { kind: "allowed", actor: { type: "api_key" } } },
    { name: "a revoked key", caller: bare("revoked key", { key: revoked.key }), expected: { kind: "unauthenticated", code: "invalid_api_key" } },
    { name: "an expired key", caller: bare("expired key", { key: expired.key }), expected: { kind: "unauthenticated", code: "invalid_api_key" } },
    { name: "a well-formed key nobody issued", caller: bare("unknown key", { key: unknown }), expected: { kind: "unauthenticated", code: "invalid_api_key" } },
    { name: "a malformed key", caller: bare("malformed key", { key: "gitar_ak_not-a-real-key" }), expected: { kind: "unauthenticated", code: "invalid_api_key" } },
    { name: "a Basic Authorization header", caller: bare("basic", { authorization: `Basic ${Buffer.from("admin@acme.test:demo").toString("base64")}` }), expected: { kind: "unauthenticated", code: "unauthenticated" } },
    // A key, when sent, decides: an admin's session does not rescue a revoked key.
    { name: "an admin's session with a revoked key", caller: () => ({ ...admin.caller, key: revoked.key, label: "admin + revoked key" }), expected: { kind: "unauthenticated", code: "invalid_api_key" } },
    { name: "another organisation's key (Globex)", caller: bare("globex key", { key: globexKey.key }), expected: { kind: "hidden" } },
    { name: "another organisation's admin (Globex)", caller: () => globexAdmin.caller, expected: { kind: "hidden" } },
  );
});

test.afterAll(async () => {
  for (const close of closers.splice(0)) await close();
});

/** A request context with no cookies. */
async function newRequest() {
  const request = await playwrightRequest.newContext({ baseURL: e2eBaseUrl });
  return { request, dispose: () => request.dispose() };
}

for (const endpoint of ENDPOINTS) {
  test(`${endpoint.name}: only an admin's session and the organisation's own key`, async () => {
    test.setTimeout(120_000);
    await disconnectOrganization("acme");
    await resetTokenChecks();
    await connectAcme();
    const acme = await organizationId("acme");
    const connected = (await connectionRow("acme"))!;
    const secrets: string[] = [String(connected.token_uuid), "acme-inc", "Acme Inc"];

    for (const principal of principals) {
      const api = apiFor(principal.caller(), acme);
      const before = await changeableState("acme");
      const events = await auditRowsSince("acme", []);
      const result = await endpoint.call(api);
      const written = await auditRowsSince("acme", events);
      const what = `${principal.name} → ${endpoint.name}`;

      switch (principal.expected.kind) {
        case "allowed": {
          expect(result.status, `${what}: ${result.text}`).toBe(200);
          expect(result.headers["content-type"]).toBe("application/json");
          if (endpoint.action) {
            const actor = principal.expected.actor;
            const own = written.filter((event) => event.outcome === "success");
            expect(own.length, `${what}: audited`).toBeGreaterThan(0);
            for (const event of own) {
              expect(event.actor_type).toBe(actor.type);
              if (actor.type === "person") expect(event.actor_email).toBe(actor.email);
              else expect(event.actor_label).toBe(ownKeyApi.key.name);
            }
          }
          await endpoint.restore?.();
          continue;
        }
        case "unauthenticated":
          expectProblem(result, 401, principal.expected.code);
          expect(result.headers["www-authenticate"], what).toMatch(/^Bearer realm="gitar"/);
          expect(written, `${what}: nothing audited`).toEqual([]);
          break;
        case "forbidden":
          expectProblem(result, 403, "forbidden");
          if (endpoint.action) {
            expect(written, `${what}: the refusal is audited`).toEqual([
              expect.objectContaining({ action: endpoint.action, outcome: "refused", code: "not_admin", actor_type: "person", actor_email: principal.expected.audited }),
            ]);
          } else {
            expect(written, `${what}: nothing audited`).toEqual([]);
          }
          break;
        case "hidden":
          expectProblem(result, 404, "not_found");
          // Exactly the answer for an organisation that does not exist: nothing of Acme's.
          expect(Object.keys(result.body).sort(), what).toEqual(["code", "detail", "status", "title", "type"]);
          for (const secret of secrets) expect(result.text, what).not.toContain(secret);
          expect(written, `${what}: nothing audited`).toEqual([]);
          break;
      }
      expect(await changeableState("acme"), `${what}: nothing changed`).toEqual(before);
    }
  });
}

test("the organisation's own key cannot reach Globex, and Globex's own key can", async ({ request }) => {
  await disconnectOrganization("globex");
  await resetTokenChecks();
  const globex = await organizationId("globex");
  const acmeKey = await apiWithKey(request, "acme");
  const fromAcme = apiFor(acmeKey.caller, globex);
  expectProblem(await fromAcme.getConnection(), 404, "not_found");
  expectProblem(await fromAcme.auditEvents(), 404, "not_found");
  expectProblem(await fromAcme.putConnection({ token: await freshBuildkiteToken() }), 404, "not_found");
  expect(await connectionRow("globex")).toBeNull();
  const before = await auditRows("globex");
  const globexKey = await apiWithKey(request, "globex");
  expect((await globexKey.getConnection()).body).toEqual({ status: "not_connected" });
  expect(await auditRowsSince("globex", before)).toEqual([]);
});
