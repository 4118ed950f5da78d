import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { personActor } from "@/lib/audit/actor";
import { isBuildkiteSlug } from "@/lib/buildkite/slug";
import { parseBuildkiteToken, TOKEN_MESSAGES } from "@/lib/buildkite/token-input";
import { EXPIRY_CHOICES, parseCreateApiKey } from "@/lib/api-keys/form-input";
import { WEBHOOK_EVENT_TYPES } from "@/lib/notifications/event-types";
import { MAX_URL_LENGTH, parseAddEndpoint } from "@/lib/notifications/form-input";
import { connectBuildkite } from "@/lib/integrations/buildkite/connect";
import { connectState, rotateState } from "@/lib/integrations/buildkite/presentation/form-state";
import { rotateBuildkiteToken } from "@/lib/integrations/buildkite/rotate";
import { SEVERAL_ORGANIZATIONS } from "../support/buildkite-fixtures";
import { connectFresh, goodScenario, tenantTracker, type ConnectedTenant } from "../support/connection-checks";
import { setUpIntegrationHarness } from "../support/integration-harness";
import { localBackend } from "../support/secret-backends";
import { dumpedRows, freshToken, type Tenant } from "../support/tenants";

/**
 * Bad input, generated: property-based fuzzing (fast-check) of what a person or a script can type, through the real
 * use cases on real Postgres and the Buildkite stand-in. Each property runs 10,000 cases; a failing case is shrunk to
 * the smallest input that fails and printed with its seed, so it can be replayed. For every case: no exception (an
 * exception is what becomes a 5xx or "Something went wrong"), a failure the page and the API have words for, the
 * words never repeat the input, and nothing stored.
 */

const RUNS = 10_000;
const harness = setUpIntegrationHarness();
const tenants = tenantTracker(() => harness.db);
const backend = localBackend();
beforeAll(() => backend.setUp());
afterAll(async () => {
  await tenants.removeAll();
  await backend.tearDown();
});

/** What people paste into a token field: anything, and a lot that looks almost right. */
const pastedToken = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: "grapheme", maxLength: 300 }) },
  { weight: 3, arbitrary: fc.string({ unit: "binary", maxLength: 80 }) },
  { weight: 4, arbitrary: fc.stringMatching(/^(bkua_|bkaa_|bkaj_|BKUA_|)[A-Za-z0-9._-]{0,60}$/) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom("", " ", "\n", "\t", "\u200b", "\ufeff", "Bearer "), fc.stringMatching(/^bkua_[A-Za-z0-9]{30,40}$/), fc.constantFrom("", " ", "\r\n", "\u2028", "\""))
      .map(([before, token, after]) => `${before}${token}${after}`),
  },
  { weight: 1, arbitrary: fc.string({ minLength: 250, maxLength: 2000 }) },
  { weight: 1, arbitrary: fc.constantFrom("", " ", "null", "undefined", "[object Object]", "<script>alert(1)</script>", "'; DROP TABLE users; --") },
);

const ALL_TOKEN_MESSAGES = new Set<string>(Object.values(TOKEN_MESSAGES));

/** Words shown to a person must never carry what they typed (a token pasted in the wrong place, or markup). */
function expectNotEchoed(words: unknown, input: string) {
  const trimmed = input.trim();
  if (trimmed.length < 8) return;
  expect(JSON.stringify(words)).not.toContain(JSON.stringify(trimmed).slice(1, -1));
}

async function expectNothingStoredFor(tenant: Tenant) {
  expect(await harness.db.buildkiteConnection.findUnique({ where: { organizationId: tenant.organizationId } })).toBeNull();
  expect((await backend.store().list()).filter((secret) => secret.organizationId === tenant.organizationId)).toEqual([]);
}

describe("the token field", () => {
  it(`${RUNS} pasted tokens through connect: each refused with its own words, none echoed, nothing stored`, async () => {
    const tenant = await tenants.create();
    const deps = harness.deps(backend.store());
    const seen: string[] = [];
    await fc.assert(
      fc.asyncProperty(pastedToken, async (input) => {
        const parsed = parseBuildkiteToken(input);
        if (!parsed.ok) {
          expect(ALL_TOKEN_MESSAGES).toContain(parsed.message);
          return;
        }
        seen.push(parsed.token);
        const result = await connectBuildkite({ organizationId: tenant.organizationId, actor: personActor(tenant.actor), token: parsed.token }, deps);
        // Not one of these is a token Buildkite knows.
        expect(result).toMatchObject({ ok: false });
        const state = connectState(result);
        expect(state.status).toBe("error");
        expect(state).toHaveProperty("message");
        expectNotEchoed(state, input);
      }),
      { numRuns: RUNS },
    );
    await expectNothingStoredFor(tenant);
    // The tokens that reached Buildkite were sent there, and nowhere else: not one row in any table holds one.
    const rows = (await dumpedRows(harness.db)).join("\n");
    for (const token of seen.filter((token) => token.length >= 8)) expect(rows).not.toContain(token);
  }, 900_000);

  it(`${RUNS} pasted tokens through rotate: the connection keeps its token`, async () => {
    const connected: ConnectedTenant = await connectFresh(harness, harness.deps(backend.store()), await tenants.create());
    const { organizationId } = connected.tenant;
    const before = await harness.db.buildkiteConnection.findUniqueOrThrow({ where: { organizationId } });
    const deps = harness.deps(backend.store());
    await fc.assert(
      fc.asyncProperty(pastedToken, async (input) => {
        const parsed = parseBuildkiteToken(input);
        if (!parsed.ok) return;
        const result = await rotateBuildkiteToken({ organizationId, actor: personActor(connected.tenant.actor), token: parsed.token, revokePrevious: true }, deps);
        expect(result).toMatchObject({ ok: false });
        expectNotEchoed(rotateState(result), input);
      }),
      { numRuns: RUNS },
    );
    const after = await harness.db.buildkiteConnection.findUniqueOrThrow({ where: { organizationId } });
    expect({ version: after.secretVersion, revision: after.revision }).toEqual({ version: before.secretVersion, revision: before.revision });
    expect(await backend.store().read(organizationId, { ref: after.secretRef, version: after.secretVersion })).toBe(connected.token);
  }, 900_000);
});

describe("the organisation choice", () => {
  it(`${RUNS} organisation names a token does not reach: refused, none echoed, nothing stored`, async () => {
    const reachable = new Set(SEVERAL_ORGANIZATIONS.map((organization) => organization.slug));
    const tenant = await tenants.create();
    const deps = harness.deps(backend.store());
    const { token } = freshToken(harness.buildkite, { ...goodScenario(), organizations: SEVERAL_ORGANIZATIONS });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string({ unit: "grapheme", maxLength: 120 }), fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,40}$/), fc.constantFrom("../acme-inc", "acme-inc/", "ACME-INC", "acme-inc?x=1", "%2e%2e")),
        async (slug) => {
          fc.pre(!reachable.has(slug));
          const result = await connectBuildkite({ organizationId: tenant.organizationId, actor: personActor(tenant.actor), token, buildkiteOrgSlug: slug }, deps);
          expect(result).toMatchObject({ ok: false });
          // A slug-shaped name is named back ("cannot reach “acme-labs”"): it cannot hold a token. Nothing else is.
          if (!isBuildkiteSlug(slug)) expectNotEchoed(connectState(result), slug);
        },
      ),
      { numRuns: RUNS },
    );
    await expectNothingStoredFor(tenant);
    // Each went to Buildkite's own organisation endpoint and no further: the name never became part of another path.
    for (const request of harness.buildkite.requests.filter((entry) => entry.token === token)) {
      expect(request.path).toMatch(/^\/v2\/(access-token|user|organizations(\/[^/?#]+)?)(\?.*)?$/);
    }
  }, 900_000);
});

describe("the API key form", () => {
  it(`${RUNS} names and expiries: a key or words that say what to fix, never an exception`, () => {
    const field = fc.oneof(fc.string({ unit: "grapheme", maxLength: 200 }), fc.string({ unit: "binary", maxLength: 50 }), fc.constantFrom(...EXPIRY_CHOICES.map((choice) => choice.value)));
    fc.assert(
      fc.property(fc.option(field), fc.option(field), (name, expiresIn) => {
        const form = new FormData();
        if (name !== null) form.set("name", name);
        if (expiresIn !== null) form.set("expiresIn", expiresIn);
        const parsed = parseCreateApiKey(form);
        if (parsed.ok) {
          expect(parsed.input.name.length).toBeGreaterThan(0);
          expect(parsed.input.name).not.toMatch(/\p{Cc}/u);
        } else {
          expect(parsed.message.length).toBeGreaterThan(0);
          if (name) expectNotEchoed(parsed.message, name);
          // What refills the form is bounded, whatever was sent.
          expect(parsed.values.name.length).toBeLessThanOrEqual(1000);
        }
      }),
      { numRuns: RUNS },
    );
  });
});

describe("the Add endpoint form", () => {
  const host = fc.oneof(
    fc.domain(),
    fc.constantFrom("localhost", "LOCALHOST.", "api.localhost", "127.0.0.1", "10.0.0.7", "192.168.1.1", "172.16.0.1", "169.254.169.254", "[::1]", "[fd00::1]", "0.0.0.0", "2130706433", "0x7f.1"),
  );
  const url = fc.oneof(
    { weight: 3, arbitrary: fc.webUrl({ withQueryParameters: true, withFragments: true }) },
    {
      weight: 3,
      arbitrary: fc
        .tuple(fc.constantFrom("https://", "http://", "HTTPS://", "ftp://", "javascript:", "data:text/html,", "//", ""), fc.option(fc.constantFrom("user:pass@", "user@")), host, fc.option(fc.integer({ min: 0, max: 70_000 })), fc.webPath())
        .map(([scheme, credentials, name, port, path]) => `${scheme}${credentials ?? ""}${name}${port === null ? "" : `:${port}`}${path}`),
    },
    { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 200 }) },
    { weight: 1, arbitrary: fc.string({ minLength: MAX_URL_LENGTH - 10, maxLength: MAX_URL_LENGTH + 500 }) },
  );
  const events = fc.array(fc.oneof(fc.constantFrom(...WEBHOOK_EVENT_TYPES, "test", "endpoint.disabled"), fc.string({ maxLength: 40 })), { maxLength: 10 });

  it(`${RUNS} addresses and event choices: an endpoint only for a public https:// address, else words that say what to fix`, () => {
    fc.assert(
      fc.property(fc.option(url), events, (address, chosen) => {
        const form = new FormData();
        if (address !== null) form.set("url", address);
        for (const event of chosen) form.append("events", event);
        const parsed = parseAddEndpoint(form, false);
        if (parsed.ok) {
          const accepted = new URL(parsed.input.url);
          expect(accepted.protocol).toBe("https:");
          expect(accepted.username + accepted.password).toBe("");
          const host = accepted.hostname;
          expect(host === "localhost" || host.endsWith(".localhost"), host).toBe(false);
          // The private literals the generator makes (a name is checked after DNS, at delivery: not here).
          if (/^\d{1,3}(\.\d{1,3}){3}$/.test(host)) expect(host).not.toMatch(/^(127\.|10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|169\.254\.|0\.)/);
          expect(["[::1]", "[fd00::1]"]).not.toContain(host);
          expect(parsed.input.events.length).toBeGreaterThan(0);
          for (const event of parsed.input.events) expect(WEBHOOK_EVENT_TYPES).toContain(event);
        } else {
          expect(parsed.message.length).toBeGreaterThan(0);
          if (address) expectNotEchoed(parsed.message, address);
          expect(parsed.values.url.length).toBeLessThanOrEqual(MAX_URL_LENGTH);
          for (const event of parsed.values.events) expect(WEBHOOK_EVENT_TYPES).toContain(event);
        }
      }),
      { numRuns: RUNS },
    );
  });
});
