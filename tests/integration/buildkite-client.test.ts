import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { inspect } from "node:util";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createBuildkiteClient, type BuildkiteClient } from "@/lib/buildkite/client";
import { BuildkiteError, type BuildkiteErrorCode } from "@/lib/buildkite/errors";
import { compareScopes, REQUIRED_SCOPE_NAMES } from "@/lib/buildkite/scopes";
import { BUILDKITE_FIXTURES, BUILDKITE_TOKENS, registerFixtures, SEVERAL_ORGANIZATIONS } from "../support/buildkite-fixtures";
import { startBuildkiteStandIn, type BuildkiteStandIn } from "../support/buildkite-stand-in";

/**
 * The real client (undici, retry, timeouts, zod) against the Buildkite stand-in on a real port. Timeouts are small
 * so the timeout cases finish quickly; the stand-in's request log shows exactly how many attempts were made.
 */

const TIMEOUT_MS = 800;
const CONNECT_TIMEOUT_MS = 500;
const DAY_MS = 24 * 60 * 60 * 1000;

let standIn: BuildkiteStandIn;
let client: BuildkiteClient;

beforeAll(async () => {
  standIn = await startBuildkiteStandIn();
  registerFixtures(standIn);
  client = createBuildkiteClient({ baseUrl: standIn.url, connectTimeoutMs: CONNECT_TIMEOUT_MS, timeoutMs: TIMEOUT_MS });
});

afterAll(async () => {
  await client?.close();
  await standIn?.close();
});

beforeEach(() => standIn.reset());

/** Awaits a rejection, checks it is a BuildkiteError that does not leak the token anywhere, and returns it. */
async function failure(promise: Promise<unknown>, token: string): Promise<BuildkiteError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(BuildkiteError);
  const buildkiteError = error as BuildkiteError;
  expect(buildkiteError.message).not.toContain(token);
  expect(buildkiteError.stack ?? "").not.toContain(token);
  expect(inspect(buildkiteError, { depth: 10 })).not.toContain(token);
  expect(JSON.stringify(buildkiteError)).not.toContain(token);
  return buildkiteError;
}

function attempts(token: string, path = "/v2/access-token") {
  return standIn.requests.filter((request) => request.token === token && request.path === path).length;
}

describe("getAccessToken", () => {
  it("returns the token's details and sends the token as a bearer token", async () => {
    const before = Date.now();
    const info = await client.getAccessToken(BUILDKITE_TOKENS.good);
    expect(info.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(info.scopes).toEqual(REQUIRED_SCOPE_NAMES);
    expect(info.description).toBe("Gitar Integration");
    expect(info.owner).toEqual({ name: "Buildkite Service Account", email: "buildkite-integration@acme.test" });
    expect(info.expiresAt).toBeNull();
    // Docs-format dates have whole seconds only.
    expect(Math.abs(info.createdAt!.getTime() - (before - 7 * DAY_MS))).toBeLessThan(5_000);
    expect(standIn.requests).toEqual([{ method: "GET", path: "/v2/access-token", token: BUILDKITE_TOKENS.good }]);
  });

  it("reads an ISO expiry three days out", async () => {
    const before = Date.now();
    const info = await client.getAccessToken(BUILDKITE_TOKENS.goodExpiring);
    expect(Math.abs(info.expiresAt!.getTime() - (before + 3 * DAY_MS))).toBeLessThan(5_000);
  });

  it("returns the granted scopes so missing and extra ones can be named", async () => {
    const missing = await client.getAccessToken(BUILDKITE_TOKENS.missingScopes);
    expect(compareScopes(missing.scopes).missing).toEqual(["read_job_env", "read_suites"]);
    const extra = await client.getAccessToken(BUILDKITE_TOKENS.extraScopes);
    expect(compareScopes(extra.scopes)).toEqual({
      missing: [],
      extra: ["write_builds", "write_pipelines"],
      writeScopes: ["write_builds", "write_pipelines"],
    });
  });

  it("accepts a legacy token without a prefix", async () => {
    const info = await client.getAccessToken(BUILDKITE_TOKENS.legacy);
    expect(info.scopes).toHaveLength(9);
    expect(attempts(BUILDKITE_TOKENS.legacy)).toBe(1);
  });
});

describe("listOrganizations", () => {
  it("lists one organization, asking for 100 a page", async () => {
    expect(await client.listOrganizations(BUILDKITE_TOKENS.good)).toEqual([{ slug: "acme-inc", name: "Acme Inc" }]);
    expect(standIn.requests.map((request) => request.path)).toEqual(["/v2/organizations?per_page=100"]);
  });

  it("lists none and several", async () => {
    expect(await client.listOrganizations(BUILDKITE_TOKENS.noOrganizations)).toEqual([]);
    expect(await client.listOrganizations(BUILDKITE_TOKENS.severalOrganizations)).toEqual(SEVERAL_ORGANIZATIONS);
  });

  it("follows Link rel=next across pages", async () => {
    const token = "bkua_MTA.pAg1nAt3Qw8Zx2Kp9Lm5Nv";
    const organizations = Array.from({ length: 250 }, (_, i) => ({ slug: `org-${i}`, name: `Org ${i}` }));
    standIn.register(token, { kind: "ok", scopes: ["read_organizations"], organizations });
    const listed = await client.listOrganizations(token);
    expect(listed).toHaveLength(250);
    expect(listed[0]).toEqual({ slug: "org-0", name: "Org 0" });
    expect(listed[249]).toEqual({ slug: "org-249", name: "Org 249" });
    expect(standIn.requests.map((request) => request.path)).toEqual([
      "/v2/organizations?per_page=100",
      "/v2/organizations?page=2&per_page=100",
      "/v2/organizations?page=3&per_page=100",
    ]);
  });

  it("stops after 10 pages", async () => {
    const token = "bkua_MTA.tEnPaG3sQw8Zx2Kp9Lm5Nv";
    const organizations = Array.from({ length: 1_050 }, (_, i) => ({ slug: `org-${i}`, name: `Org ${i}` }));
    standIn.register(token, { kind: "ok", scopes: ["read_organizations"], organizations });
    const listed = await client.listOrganizations(token);
    expect(listed).toHaveLength(1_000);
    expect(standIn.requests).toHaveLength(10);
  });

  it("maps a missing read_organizations scope to forbidden naming the scope", async () => {
    const token = "bkua_MTA.n0ReAdOrGsQw8Zx2Kp9Lm5";
    standIn.register(token, { kind: "ok", scopes: ["read_builds"] });
    const error = await failure(client.listOrganizations(token), token);
    expect(error.code).toBe("forbidden");
    expect(error.missingScope).toBe("read_organizations");
    expect(standIn.requests).toHaveLength(1);
  });
});

describe("error mapping", () => {
  it.each<[string, string, BuildkiteErrorCode, number]>([
    ["an unknown token", "bkua_MTA.uNkN0wNQw8Zx2Kp9Lm5Nv8Bc", "unauthorized", 401],
    ["an expired token", BUILDKITE_TOKENS.expired, "unauthorized", 401],
    ["a plain 403", BUILDKITE_TOKENS.forbidden, "forbidden", 403],
    ["a 429", BUILDKITE_TOKENS.rateLimited, "rate_limited", 429],
  ])("maps %s to %s without retrying", async (_label, token, code, status) => {
    const error = await failure(client.getAccessToken(token), token);
    expect(error.code).toBe(code);
    expect(error.status).toBe(status);
    expect(attempts(token)).toBe(1);
  });

  it("reads the missing scope from a scope 403, and none from a plain one", async () => {
    const token = "bkua_MTA.sC0pE403Qw8Zx2Kp9Lm5Nv";
    standIn.register(token, { kind: "forbidden", missingScope: "read_builds" });
    expect((await failure(client.getAccessToken(token), token)).missingScope).toBe("read_builds");
    expect((await failure(client.getAccessToken(BUILDKITE_TOKENS.forbidden), BUILDKITE_TOKENS.forbidden)).missingScope).toBeUndefined();
  });

  it("carries the rate limit's reset seconds", async () => {
    expect((await failure(client.getAccessToken(BUILDKITE_TOKENS.rateLimited), BUILDKITE_TOKENS.rateLimited)).retryAfterSeconds).toBe(42);
    const token = "bkua_MTA.rAt3SeV3nQw8Zx2Kp9Lm5N";
    standIn.register(token, { kind: "rate_limited", resetSeconds: 7 });
    expect((await failure(client.getAccessToken(token), token)).retryAfterSeconds).toBe(7);
  });

  it.each([500, 502, 503] as const)("retries a %i exactly once, then reports unavailable", async (status) => {
    const token = `bkua_MTA.s3rV3r${status}Qw8Zx2Kp9Lm5N`;
    standIn.register(token, { kind: "server_error", status });
    const error = await failure(client.getAccessToken(token), token);
    expect(error.code).toBe("unavailable");
    expect(error.status).toBe(status);
    expect(attempts(token)).toBe(2);
  });

  it("maps the always-503 fixture to unavailable after two attempts", async () => {
    const error = await failure(client.getAccessToken(BUILDKITE_TOKENS.unavailable), BUILDKITE_TOKENS.unavailable);
    expect(error.code).toBe("unavailable");
    expect(attempts(BUILDKITE_TOKENS.unavailable)).toBe(2);
  });

  it("recovers from one 503 with a single retry", async () => {
    const info = await client.getAccessToken(BUILDKITE_TOKENS.flakyOnce);
    expect(info.scopes).toEqual(REQUIRED_SCOPE_NAMES);
    expect(attempts(BUILDKITE_TOKENS.flakyOnce)).toBe(2);
  });

  it("recovers from one reset connection with a single retry", async () => {
    const info = await client.getAccessToken(BUILDKITE_TOKENS.resetOnce);
    expect(info.description).toBe("Gitar Integration");
    expect(attempts(BUILDKITE_TOKENS.resetOnce)).toBe(2);
  });

  it("reports a connection reset twice as unreachable", async () => {
    const error = await failure(client.getAccessToken(BUILDKITE_TOKENS.resetAlways), BUILDKITE_TOKENS.resetAlways);
    expect(error.code).toBe("unreachable");
    expect(error.reason).toMatch(/connection (reset|closed)/);
    expect(attempts(BUILDKITE_TOKENS.resetAlways)).toBe(2);
  });

  it("gives up on a hanging server within the budget", async () => {
    const started = performance.now();
    const error = await failure(client.getAccessToken(BUILDKITE_TOKENS.hang), BUILDKITE_TOKENS.hang);
    const elapsed = performance.now() - started;
    expect(error.code).toBe("timeout");
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(elapsed).toBeLessThan(TIMEOUT_MS + 400);
    expect(attempts(BUILDKITE_TOKENS.hang)).toBe(1);
  });

  it("treats a 200 HTML page as an unexpected response", async () => {
    const error = await failure(client.getAccessToken(BUILDKITE_TOKENS.htmlBody), BUILDKITE_TOKENS.htmlBody);
    expect(error.code).toBe("unexpected_response");
    expect(error.status).toBe(200);
    expect(attempts(BUILDKITE_TOKENS.htmlBody)).toBe(1);
  });

  it("treats a 200 body without uuid as an unexpected response", async () => {
    const error = await failure(client.getAccessToken(BUILDKITE_TOKENS.missingUuid), BUILDKITE_TOKENS.missingUuid);
    expect(error.code).toBe("unexpected_response");
    expect(error.message).toContain("uuid");
  });

  it("treats an undocumented status as an unexpected response", async () => {
    const wrongPath = createBuildkiteClient({ baseUrl: `${standIn.url}/not-the-api`, connectTimeoutMs: 500, timeoutMs: 800 });
    try {
      const error = await failure(wrongPath.getAccessToken(BUILDKITE_TOKENS.good), BUILDKITE_TOKENS.good);
      expect(error.code).toBe("unexpected_response");
      expect(error.status).toBe(404);
    } finally {
      await wrongPath.close();
    }
  });

  it("reports a refused connection as unreachable, without retrying it", async () => {
    const port = await freePort();
    const refused = createBuildkiteClient({ baseUrl: `http://127.0.0.1:${port}`, connectTimeoutMs: 500, timeoutMs: 800 });
    try {
      const error = await failure(refused.getAccessToken(BUILDKITE_TOKENS.good), BUILDKITE_TOKENS.good);
      expect(error.code).toBe("unreachable");
      expect(error.reason).toBe("connection refused");
    } finally {
      await refused.close();
    }
  });

  it("reports an unresolvable host as unreachable", async () => {
    const nowhere = createBuildkiteClient({ baseUrl: "http://buildkite-stand-in.invalid", connectTimeoutMs: 2_000, timeoutMs: 5_000 });
    try {
      const error = await failure(nowhere.getAccessToken(BUILDKITE_TOKENS.good), BUILDKITE_TOKENS.good);
      expect(error.code).toBe("unreachable");
      expect(error.reason).toMatch(/^host (not found|name lookup failed)$/);
    } finally {
      await nowhere.close();
    }
  });

  it("refuses to put a malformed token in a header", async () => {
    const token = "bkua_bad\r\nX-Injected: 1";
    const error = await failure(client.getAccessToken(token), token);
    expect(error.code).toBe("unauthorized");
    expect(standIn.requests).toHaveLength(0);
  });
});

describe("on the wire", () => {
  type Seen = { method?: string; url?: string; headers: IncomingHttpHeaders };
  let server: Server;
  let baseUrl: string;
  let seen: Seen[];
  let connections: number;
  let answer: (req: IncomingMessage, res: ServerResponse, index: number) => void;
  let raw: BuildkiteClient;

  beforeEach(async () => {
    seen = [];
    connections = 0;
    server = createServer((req, res) => {
      seen.push({ method: req.method, url: req.url, headers: req.headers });
      answer(req, res, seen.length - 1);
    });
    server.on("connection", () => (connections += 1));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    raw = createBuildkiteClient({ baseUrl, connectTimeoutMs: CONNECT_TIMEOUT_MS, timeoutMs: TIMEOUT_MS });
  });

  afterEach(async () => {
    await raw.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));
  };

  it("sends bearer auth, Accept and a User-Agent naming the app, and reuses one connection", async () => {
    answer = (_req, res, index) =>
      index === 1
        ? json(res, 401, { message: "Authentication required." })
        : json(res, 200, { uuid: "u-1", scopes: ["read_user"], expires_at: null });
    const token = BUILDKITE_TOKENS.good;
    // undici frees a socket a tick after the body ends; yielding once models calls that are not back-to-back.
    const tick = () => new Promise((resolve) => setImmediate(resolve));
    await raw.getAccessToken(token);
    await tick();
    await failure(raw.getAccessToken(token), token);
    await tick();
    await raw.getAccessToken(token);
    expect(seen).toHaveLength(3);
    expect(seen[0]).toMatchObject({ method: "GET", url: "/v2/access-token" });
    expect(seen[0]?.headers.authorization).toBe(`Bearer ${token}`);
    expect(seen[0]?.headers.accept).toBe("application/json");
    expect(seen[0]?.headers["user-agent"]).toMatch(/^gitar-buildkite-integration\//);
    expect(connections).toBe(1);
  });

  it("refuses a next-page link to another host, so the token never goes there", async () => {
    answer = (_req, res) =>
      json(res, 200, [{ slug: "a", name: "A" }], { link: '<https://evil.example/v2/organizations?page=2>; rel="next"' });
    const error = await failure(raw.listOrganizations(BUILDKITE_TOKENS.good), BUILDKITE_TOKENS.good);
    expect(error.code).toBe("unexpected_response");
    expect(seen).toHaveLength(1);
  });

  it("follows a relative next-page link", async () => {
    answer = (req, res) =>
      req.url === "/v2/organizations?per_page=100"
        ? json(res, 200, [{ slug: "a", name: "A" }], { link: '</v2/organizations?page=2&per_page=100>; rel="next"' })
        : json(res, 200, [{ slug: "b", name: "B", id: "x" }]);
    expect(await raw.listOrganizations(BUILDKITE_TOKENS.good)).toEqual([
      { slug: "a", name: "A" },
      { slug: "b", name: "B" },
    ]);
    expect(seen.map((request) => request.url)).toEqual(["/v2/organizations?per_page=100", "/v2/organizations?page=2&per_page=100"]);
  });

  it("spends one budget across both attempts", async () => {
    // First attempt: 503 straight away; the retry hangs. The call must end at the budget, not budget + retry.
    answer = (_req, res, index) => {
      if (index === 0) json(res, 503, { message: "Service Unavailable" });
    };
    const started = performance.now();
    const error = await failure(raw.getAccessToken(BUILDKITE_TOKENS.good), BUILDKITE_TOKENS.good);
    const elapsed = performance.now() - started;
    expect(error.code).toBe("timeout");
    expect(seen).toHaveLength(2);
    expect(elapsed).toBeLessThan(TIMEOUT_MS + 400);
  });

  it("takes the 429 wait from the body when the header is absent, else a minute", async () => {
    answer = (_req, res, index) =>
      index === 0 ? json(res, 429, { message: "slow down", reset: 13 }) : json(res, 429, { message: "slow down" });
    expect((await failure(raw.getAccessToken(BUILDKITE_TOKENS.good), BUILDKITE_TOKENS.good)).retryAfterSeconds).toBe(13);
    expect((await failure(raw.getAccessToken(BUILDKITE_TOKENS.good), BUILDKITE_TOKENS.good)).retryAfterSeconds).toBe(60);
    expect(seen).toHaveLength(2);
  });
});

describe("the stand-in itself", () => {
  it("has unique, realistic fixture tokens, none registered by default", async () => {
    const values = Object.values(BUILDKITE_TOKENS);
    expect(new Set(values).size).toBe(values.length);
    expect(Object.keys(BUILDKITE_FIXTURES).sort()).toEqual(Object.keys(BUILDKITE_TOKENS).sort());
    for (const [name, token] of Object.entries(BUILDKITE_TOKENS)) {
      if (name === "legacy") expect(token).toMatch(/^[0-9a-f]{40}$/);
      else expect(token).toMatch(/^bkua_(?=.*[a-z])(?=.*[A-Z])(?=.*[0-9])[A-Za-z0-9.]{30,}$/);
    }
    const bare = await startBuildkiteStandIn();
    try {
      const response = await fetch(`${bare.url}/v2/access-token`, { headers: { authorization: `Bearer ${BUILDKITE_TOKENS.good}` } });
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({
        message:
          "Authentication required. Please supply a valid API Access Token: https://buildkite.com/docs/apis/rest-api#authentication",
      });
    } finally {
      await bare.close();
    }
  });

  it("sends Buildkite's 429 body and RateLimit headers", async () => {
    const response = await fetch(`${standIn.url}/v2/access-token`, {
      headers: { authorization: `Bearer ${BUILDKITE_TOKENS.rateLimited}` },
    });
    expect(response.status).toBe(429);
    // Both documented sets: the organisation's (scope rest) and the user's (rest_user), which is the one used up.
    expect(response.headers.get("ratelimit-scope")).toBe("rest");
    expect(response.headers.get("ratelimit-limit")).toBe("200");
    expect(response.headers.get("ratelimit-user-scope")).toBe("rest_user");
    expect(response.headers.get("ratelimit-user-limit")).toBe("50");
    expect(response.headers.get("ratelimit-user-remaining")).toBe("0");
    expect(response.headers.get("ratelimit-user-reset")).toBe("42");
    expect(await response.json()).toEqual({
      message: "You have exceeded your API rate limit. Please wait 42 seconds before making more requests.",
      scope: "rest_user",
      limit: 50,
      current: 55,
      reset: 42,
    });
  });

  it("registers tokens, shows its log and resets over the control API", async () => {
    const token = "bkua_MTA.c0nTr0lApIQw8Zx2Kp9Lm5";
    const registered = await fetch(`${standIn.url}/__stand-in/tokens`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token, scenario: { kind: "forbidden", missingScope: "read_user" } }),
    });
    expect(registered.status).toBe(204);
    const error = await failure(client.getAccessToken(token), token);
    expect(error.missingScope).toBe("read_user");
    const log = await (await fetch(`${standIn.url}/__stand-in/requests`)).json();
    expect(log).toEqual([{ method: "GET", path: "/v2/access-token", token }]);
    expect((await fetch(`${standIn.url}/__stand-in/reset`, { method: "POST" })).status).toBe(204);
    expect(standIn.requests).toEqual([]);
    const bad = await fetch(`${standIn.url}/__stand-in/tokens`, { method: "POST", body: "{}" });
    expect(bad.status).toBe(400);
  });

  it("closes promptly while a request hangs", async () => {
    const separate = await startBuildkiteStandIn();
    separate.register("hang-token", { kind: "hang" });
    const pending = fetch(`${separate.url}/v2/access-token`, { headers: { authorization: "Bearer hang-token" } }).then(
      () => "answered",
      () => "dropped",
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    // The request hangs forever: a close that waited for it would never end (and the test's own timeout would say so).
    await separate.close();
    expect(await pending).toBe("dropped");
  });

  it("runs as its own process with the fixtures and stops on SIGTERM", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "tests/support/buildkite-stand-in-cli.ts", "--port", "0"], {
      cwd: path.resolve(import.meta.dirname, "../.."),
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      const [firstLine] = (await once(child.stdout, "data")) as [Buffer];
      const match = /^buildkite stand-in listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(firstLine.toString());
      expect(match).not.toBeNull();
      const response = await fetch(`${match![1]}/v2/organizations`, {
        headers: { authorization: `Bearer ${BUILDKITE_TOKENS.severalOrganizations}` },
      });
      expect((await response.json()).map((org: { slug: string }) => org.slug)).toEqual(SEVERAL_ORGANIZATIONS.map((org) => org.slug));
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      const [code] = (await exited) as [number | null];
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
