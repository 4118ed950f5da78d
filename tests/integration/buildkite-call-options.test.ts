import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { inspect } from "node:util";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createBuildkiteClient, type BuildkiteClient, type RateLimitInfo } from "@/lib/buildkite/client";
import { BuildkiteError } from "@/lib/buildkite/errors";
import { ACME_ORGANIZATION, BUILDKITE_FIXTURES, BUILDKITE_TOKENS, registerFixtures } from "../support/buildkite-fixtures";
import { startBuildkiteStandIn, USER_RATE_LIMIT, ORG_RATE_LIMIT, type BuildkiteStandIn, type OkScenario } from "../support/buildkite-stand-in";

/**
 * What every call accepts (a caller's AbortSignal, an observer of the RateLimit-* headers), revoking a token, and
 * the stand-in's timing knobs (latency, enforced rate limits) and control routes.
 */

const TIMEOUT_MS = 2_000;
const ORG = ACME_ORGANIZATION.slug;
const GOOD = BUILDKITE_TOKENS.good;
const good = BUILDKITE_FIXTURES.good as OkScenario;

let standIn: BuildkiteStandIn;
let client: BuildkiteClient;

beforeAll(async () => {
  standIn = await startBuildkiteStandIn();
  registerFixtures(standIn);
  client = createBuildkiteClient({ baseUrl: standIn.url, connectTimeoutMs: 500, timeoutMs: TIMEOUT_MS });
});

afterAll(async () => {
  await client?.close();
  await standIn?.close();
});

beforeEach(() => {
  standIn.reset();
  standIn.setLatency(0);
});

async function failure(promise: Promise<unknown>, token: string): Promise<BuildkiteError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(BuildkiteError);
  const buildkiteError = error as BuildkiteError;
  for (const text of [buildkiteError.message, buildkiteError.stack ?? "", inspect(buildkiteError, { depth: 10 }), JSON.stringify(buildkiteError)]) {
    expect(text).not.toContain(token);
  }
  return buildkiteError;
}

let tokenCounter = 0;
/** A fresh token with the good fixture's scenario (or another), so rate-limit windows start empty. */
function freshToken(scenario: OkScenario = good): string {
  tokenCounter += 1;
  const token = `bkua_MTA.fR3sH${tokenCounter}Qw8Zx2Kp9Lm5Nv8Bc${tokenCounter}`;
  standIn.register(token, scenario);
  return token;
}

describe("onRateLimit", () => {
  it("receives both documented header sets on a success", async () => {
    const seen: RateLimitInfo[] = [];
    await client.getAccessToken(GOOD, { onRateLimit: (info) => seen.push(info) });
    expect(seen).toEqual([
      { scope: "rest", limit: 200, remaining: 199, resetSeconds: 60, user: { limit: 50, remaining: 49, resetSeconds: 60 } },
    ]);
  });

  it("receives them on a failure too, and once per page", async () => {
    const seen: RateLimitInfo[] = [];
    const token = freshToken({ ...good, scopes: ["read_user"] });
    await failure(client.listPipelines(token, ORG, { perPage: 1 }, { onRateLimit: (info) => seen.push(info) }), token);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.user?.remaining).toBe(49);

    const several = freshToken({ ...good, organizations: Array.from({ length: 150 }, (_, i) => ({ slug: `org-${i}`, name: `Org ${i}` })) });
    const pages: RateLimitInfo[] = [];
    await client.listOrganizations(several, { onRateLimit: (info) => pages.push(info) });
    expect(pages).toHaveLength(2);
  });

  it("parses a 429's headers, and the error waits for the exhausted user window", async () => {
    const seen: RateLimitInfo[] = [];
    const error = await failure(
      client.getUser(BUILDKITE_TOKENS.rateLimited, { onRateLimit: (info) => seen.push(info) }),
      BUILDKITE_TOKENS.rateLimited,
    );
    expect(error).toMatchObject({ code: "rate_limited", status: 429, retryAfterSeconds: 42 });
    expect(seen).toEqual([{ scope: "rest", limit: 200, remaining: 199, resetSeconds: 60, user: { limit: 50, remaining: 0, resetSeconds: 42 } }]);
  });

  it("is told nothing usable about a 5xx without headers, and a throwing observer does not break the call", async () => {
    const seen: RateLimitInfo[] = [];
    await failure(client.getAccessToken(BUILDKITE_TOKENS.unavailable, { onRateLimit: (info) => seen.push(info) }), BUILDKITE_TOKENS.unavailable);
    expect(seen).toEqual([{ scope: null, limit: null, remaining: null, resetSeconds: null, user: null }]);
    const info = await client.getAccessToken(GOOD, {
      onRateLimit: () => {
        throw new Error("observer failed");
      },
    });
    expect(info.uuid).toBeTruthy();
  });
});

describe("signal", () => {
  it("ends a hung call as soon as it aborts, well inside the client's budget", async () => {
    const started = performance.now();
    const error = await failure(client.getOrganization(BUILDKITE_TOKENS.hang, ORG, { signal: AbortSignal.timeout(150) }), BUILDKITE_TOKENS.hang);
    const elapsed = performance.now() - started;
    expect(error).toMatchObject({ code: "timeout", reason: "deadline reached" });
    // Ended by the signal, not by the client's own budget (which would say "time budget spent").
    expect(elapsed).toBeLessThan(TIMEOUT_MS);
  });

  it("sends nothing when it has already aborted", async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await failure(client.getAccessToken(GOOD, { signal: controller.signal }), GOOD);
    expect(error.reason).toBe("deadline reached");
    expect(standIn.requests).toEqual([]);
  });

  it("aborts every kind of call, the revoke included", async () => {
    standIn.setLatency(5_000);
    const calls: Array<(signal: AbortSignal) => Promise<unknown>> = [
      (signal) => client.listBuilds(GOOD, ORG, { perPage: 1 }, { signal }),
      (signal) => client.getJobEnv(GOOD, ORG, "web-app", 42, "job", { signal }),
      (signal) => client.revokeAccessToken(GOOD, { signal }),
    ];
    for (const call of calls) {
      const error = await failure(call(AbortSignal.timeout(100)), GOOD);
      expect(error.reason).toBe("deadline reached");
    }
    standIn.setLatency(0);
    // The revoke never reached the stand-in's route, so the token still works.
    expect((await client.getAccessToken(GOOD)).uuid).toBeTruthy();
  });

  it("leaves the client's own budget in charge when the signal is later", async () => {
    const short = createBuildkiteClient({ baseUrl: standIn.url, connectTimeoutMs: 500, timeoutMs: 300 });
    try {
      const error = await failure(short.getAccessToken(BUILDKITE_TOKENS.hang, { signal: AbortSignal.timeout(5_000) }), BUILDKITE_TOKENS.hang);
      expect(error).toMatchObject({ code: "timeout", reason: "time budget spent" });
    } finally {
      await short.close();
    }
  });
});

describe("revokeAccessToken", () => {
  it("revokes with a DELETE answered 204; the token then answers 401", async () => {
    const token = freshToken();
    await client.revokeAccessToken(token);
    expect(standIn.requests).toEqual([{ method: "DELETE", path: "/v2/access-token", token }]);
    expect((await failure(client.getAccessToken(token), token)).code).toBe("unauthorized");
    // A second revoke sees 401: the caller reads that as "already revoked".
    expect((await failure(client.revokeAccessToken(token), token)).code).toBe("unauthorized");
  });

  it("sees a token an admin revoked on buildkite.com (the control route) as unauthorized", async () => {
    const token = freshToken();
    const response = await fetch(`${standIn.url}/__stand-in/revoke`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token }),
    });
    expect(response.status).toBe(204);
    expect((await failure(client.getUser(token), token)).code).toBe("unauthorized");
    expect((await fetch(`${standIn.url}/__stand-in/revoke`, { method: "POST", body: "{}" })).status).toBe(400);
  });

  it("maps 403 and 429 like any call, and never retries a 5xx", async () => {
    const token = "bkua_MTA.r3V0k3503Qw8Zx2Kp9Lm5Nv";
    standIn.register(token, { kind: "server_error", status: 503 });
    const error = await failure(client.revokeAccessToken(token), token);
    expect(error).toMatchObject({ code: "unavailable", status: 503 });
    expect(standIn.requests).toHaveLength(1);
    expect((await failure(client.revokeAccessToken(BUILDKITE_TOKENS.rateLimited), BUILDKITE_TOKENS.rateLimited)).code).toBe("rate_limited");
  });

  describe("on the wire", () => {
    let server: Server;
    let raw: BuildkiteClient;
    let answer: (res: ServerResponse, index: number) => void;
    let seen: Array<{ method?: string; url?: string }>;

    beforeEach(async () => {
      seen = [];
      server = createServer((req, res) => {
        seen.push({ method: req.method, url: req.url });
        answer(res, seen.length - 1);
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      raw = createBuildkiteClient({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connectTimeoutMs: 500, timeoutMs: 800 });
    });

    afterEach(async () => {
      await raw.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it("does not repeat a revoke whose connection was reset", async () => {
      answer = (res) => res.socket?.resetAndDestroy();
      const error = await failure(raw.revokeAccessToken(GOOD), GOOD);
      expect(error.code).toBe("unreachable");
      expect(seen).toEqual([{ method: "DELETE", url: "/v2/access-token" }]);
    });

    it("takes only 204 as revoked", async () => {
      answer = (res) => res.writeHead(200, { "content-type": "text/html" }).end("<html>Sign in</html>");
      expect((await failure(raw.revokeAccessToken(GOOD), GOOD)).code).toBe("unexpected_response");
    });
  });
});

describe("register mid-test", () => {
  it("takes scopes and organisations away from the next request on", async () => {
    const token = freshToken();
    expect(await client.listTeams(token, ORG)).toEqual({ count: 1 });
    standIn.register(token, { ...good, scopes: good.scopes.filter((scope) => scope !== "read_teams") });
    expect((await failure(client.listTeams(token, ORG), token)).missingScope).toBe("read_teams");
    standIn.register(token, { ...good, organizations: [] });
    expect((await failure(client.listTeams(token, ORG), token)).code).toBe("not_found");
    expect(await client.listOrganizations(token)).toEqual([]);
  });
});

describe("stand-in latency", () => {
  it("delays every /v2 answer by the configured time, and the control route changes it", async () => {
    standIn.setLatency(200);
    let started = performance.now();
    await client.getAccessToken(GOOD);
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);

    // Changed over the control route, and seen taking effect. Only lower bounds: a busy machine makes anything
    // slower, never faster, so an upper bound would fail on a timing.
    const setLatency = (ms: number) =>
      fetch(`${standIn.url}/__stand-in/latency`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ ms }) });
    expect((await setLatency(400)).status).toBe(204);
    started = performance.now();
    await client.getAccessToken(GOOD);
    expect(performance.now() - started).toBeGreaterThanOrEqual(390);
    expect((await setLatency(0)).status).toBe(204);
    expect((await fetch(`${standIn.url}/__stand-in/latency`, { method: "POST", body: JSON.stringify({ ms: -1 }) })).status).toBe(400);
  });

  it("can be set at start", async () => {
    const slow = await startBuildkiteStandIn({ latencyMs: 150 });
    try {
      slow.register("slow-token", good);
      const started = performance.now();
      const response = await fetch(`${slow.url}/v2/user`, { headers: { authorization: "Bearer slow-token" } });
      expect(response.status).toBe(200);
      expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    } finally {
      await slow.close();
    }
  });
});

describe("stand-in rate limits", () => {
  let limited: BuildkiteStandIn;
  let limitedClient: BuildkiteClient;

  beforeAll(async () => {
    limited = await startBuildkiteStandIn({ enforceRateLimits: true });
    limitedClient = createBuildkiteClient({ baseUrl: limited.url, connectTimeoutMs: 500, timeoutMs: TIMEOUT_MS });
  });
  afterAll(async () => {
    await limitedClient?.close();
    await limited?.close();
  });
  beforeEach(() => limited.reset());

  it("counts down the user's window and answers 429 on request 51", async () => {
    limited.register("user-a", good);
    const seen: RateLimitInfo[] = [];
    for (let i = 0; i < USER_RATE_LIMIT; i += 1) await limitedClient.getUser("user-a", { onRateLimit: (info) => seen.push(info) });
    expect(seen.map((info) => info.user?.remaining)).toEqual(Array.from({ length: USER_RATE_LIMIT }, (_, i) => USER_RATE_LIMIT - 1 - i));
    expect(seen.at(-1)).toMatchObject({ scope: "rest", limit: ORG_RATE_LIMIT, remaining: ORG_RATE_LIMIT - USER_RATE_LIMIT });
    expect(seen.at(-1)?.user?.resetSeconds).toBeGreaterThan(0);
    expect(seen.at(-1)?.user?.resetSeconds).toBeLessThanOrEqual(60);

    const response = await fetch(`${limited.url}/v2/user`, { headers: { authorization: "Bearer user-a" } });
    expect(response.status).toBe(429);
    const body = await response.json();
    expect(body).toMatchObject({ scope: "rest_user", limit: USER_RATE_LIMIT, current: USER_RATE_LIMIT + 1 });
    expect(body.message).toBe(`You have exceeded your API rate limit. Please wait ${body.reset} seconds before making more requests.`);
    expect(response.headers.get("ratelimit-user-remaining")).toBe("0");

    const error = await failure(limitedClient.getUser("user-a"), "user-a");
    expect(error.code).toBe("rate_limited");
    expect(error.retryAfterSeconds).toBe(Number(body.reset));
  });

  it("shares the organisation's 200 across tokens, and answers 429 with scope rest past it", async () => {
    const tokens = ["org-1", "org-2", "org-3", "org-4", "org-5"];
    for (const token of tokens) limited.register(token, good);
    let status = 200;
    let last: { scope?: string } = {};
    for (let i = 0; i <= ORG_RATE_LIMIT; i += 1) {
      const response = await fetch(`${limited.url}/v2/organizations/${ORG}/teams`, {
        headers: { authorization: `Bearer ${tokens[i % tokens.length]}` },
      });
      status = response.status;
      last = (await response.json()) as { scope?: string };
      if (i < ORG_RATE_LIMIT) expect(response.status).toBe(200);
    }
    expect(status).toBe(429);
    expect(last).toMatchObject({ scope: "rest", limit: ORG_RATE_LIMIT, current: ORG_RATE_LIMIT + 1 });
    // Another organisation's window is untouched.
    limited.register("elsewhere", { ...good, organizations: [{ slug: "acme-labs", name: "Acme Labs" }] });
    expect(await limitedClient.listTeams("elsewhere", "acme-labs")).toEqual({ count: 1 });
  });

  it("is off by default: the static headers never run out", async () => {
    const token = freshToken();
    for (let i = 0; i < USER_RATE_LIMIT + 5; i += 1) await client.getUser(token);
    const seen: RateLimitInfo[] = [];
    await client.getUser(token, { onRateLimit: (info) => seen.push(info) });
    expect(seen[0]?.user?.remaining).toBe(USER_RATE_LIMIT - 1);
  });
});

describe("stand-in process", () => {
  it("takes --latency-ms and --enforce-rate-limits", async () => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "tests/support/buildkite-stand-in-cli.ts", "--port", "0", "--latency-ms", "100", "--enforce-rate-limits"],
      { cwd: path.resolve(import.meta.dirname, "../.."), stdio: ["ignore", "pipe", "pipe"] },
    );
    try {
      const [firstLine] = (await once(child.stdout, "data")) as [Buffer];
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(firstLine.toString())?.[1];
      expect(url).toBeDefined();
      const started = performance.now();
      const response = await fetch(`${url}/v2/user`, { headers: { authorization: `Bearer ${GOOD}` } });
      expect(performance.now() - started).toBeGreaterThanOrEqual(90);
      // Enforcing: the first request of a fresh window leaves 49 of the user's 50.
      expect(response.headers.get("ratelimit-user-remaining")).toBe("49");
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      expect(((await exited) as [number | null])[0]).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});
