import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { getResponse, http, HttpResponse, type JsonBodyType, type RequestHandler } from "msw";

/**
 * A stand-in for Buildkite's REST API on a real local port, so the app's real undici client is what gets tested
 * (msw's interceptors cannot see undici's own dispatcher). The routes are msw handlers; a small node:http server
 * turns each request into a Fetch Request and answers with msw's getResponse. Status codes, bodies and
 * RateLimit-* headers follow docs/buildkite-api.md and Buildkite's REST docs (pages/apis/rest_api/*). What a token
 * gets is chosen per bearer token by a scenario; what an organisation holds (pipelines, builds, jobs, teams, suites)
 * by the scenario's `organizationData`, with realistic defaults.
 *
 * Relative imports only: this file also runs under plain `node --import tsx` (see buildkite-stand-in-cli.ts).
 */

export type StandInOrganization = { slug: string; name: string };

export type StandInPipeline = { slug: string; name: string; repository: string | null };

export type StandInArtifact = { path: string; fileSize: number; mimeType?: string };

export type StandInJob = {
  /** Defaults to a UUID derived from the organisation, pipeline, build number and the job's position. */
  id?: string;
  type: "script" | "waiter" | "manual" | "trigger";
  name?: string;
  /** Defaults to the build's state. */
  state?: string;
  artifacts?: readonly StandInArtifact[];
  /** The job's log text; defaults to a few lines naming the job. */
  log?: string;
  /** The job's environment; defaults to Buildkite's variables plus two that look like customers' secrets
   *  (one of them STAND_IN_JOB_SECRET), so tests can check no caller ever passes the values on. */
  env?: Readonly<Record<string, string>>;
};

export type StandInBuild = {
  number: number;
  /** Slug of one of the organisation's pipelines. */
  pipeline: string;
  state: string;
  /** Relative to the moment of each request; defaults to one hour ago. Lists are newest first. */
  createdOffsetMs?: number;
  branch?: string;
  message?: string;
  jobs: readonly StandInJob[];
};

export type StandInTeam = { slug: string; name: string };
export type StandInSuite = { slug: string; name: string };

/** What one organisation holds. Each field left out takes its default (defaultOrganizationData). */
export type StandInOrganizationData = {
  pipelines?: readonly StandInPipeline[];
  builds?: readonly StandInBuild[];
  teams?: readonly StandInTeam[];
  suites?: readonly StandInSuite[];
};

export type OkScenario = {
  kind: "ok";
  scopes: readonly string[];
  /** Defaults to "Gitar Integration"; null sends `"description": null`. */
  description?: string | null;
  /** Defaults to null (no `user` object). */
  owner?: { name: string; email: string } | null;
  /** Relative to the moment of each request; defaults to 30 days ago. */
  createdOffsetMs?: number;
  /** Relative to the moment of each request; null (default) = never expires. In the past = Buildkite's 401. */
  expiresOffsetMs?: number | null;
  /** "docs": "2025-07-16 06:07:42 UTC" (default); "iso": "2025-07-16T06:07:42.000Z". */
  dateFormat?: "docs" | "iso";
  /** The organisations the token reaches; any other answers 404 on its routes. */
  organizations?: readonly StandInOrganization[];
  /** Per organisation slug; organisations without an entry (or fields left out) get defaultOrganizationData. */
  organizationData?: Readonly<Record<string, StandInOrganizationData>>;
  /** Defaults to a UUID derived from the token, stable across requests. */
  uuid?: string;
};

type Failing<K extends string, Extra> =
  | ({ kind: K } & Extra)
  /** Fails the first `failures` requests made with the token, then answers like `then`. */
  | ({ kind: K; failures: number; then: OkScenario } & Extra);

export type BuildkiteScenario =
  | OkScenario
  | { kind: "unauthorized" }
  /** With `missingScope`: "Your access token doesn't have the X scope"; without: the plain "Forbidden". */
  | { kind: "forbidden"; missingScope?: string }
  | { kind: "rate_limited"; resetSeconds?: number }
  | Failing<"server_error", { status: 500 | 502 | 503 }>
  /** Destroys the socket (TCP reset) without sending a response. */
  | Failing<"connection_reset", object>
  /** Accepts the request and never answers (until the client gives up or the stand-in closes). */
  | { kind: "hang" }
  | { kind: "html_body" }
  /** A 200 whose JSON body is larger than any real answer (5 MiB). */
  | { kind: "huge_body" }
  /** A 200 whose headers come at once and whose body then arrives one byte every 100 ms, never ending. */
  | { kind: "slow_body" }
  /** Like `base` (default: no scopes), but the /v2/access-token body lacks `uuid`. */
  | { kind: "missing_uuid"; base?: OkScenario };

export type StandInRequest = { method: string; path: string; token: string | null };

export type BuildkiteStandInOptions = {
  port?: number;
  host?: string;
  /** Added to every /v2 answer, before the request is acted on (the control API is never delayed). Change it later
   *  with setLatency or `POST /__stand-in/latency {"ms": N}`. */
  latencyMs?: number;
  /** Counts requests per token (50 a minute) and per organisation (200 a minute) in fixed 60 s windows, sends the
   *  real remaining/reset values in the RateLimit-* headers and answers Buildkite's 429 when over. Off by default:
   *  tests must not depend on timing. */
  enforceRateLimits?: boolean;
};

export type BuildkiteStandIn = {
  url: string;
  /** Sets (or replaces) what a token gets. Replacing takes effect from the next request: use it to take scopes or
   *  organisations away from a token mid-test. It also forgets the token's revocation and failure count. */
  register(token: string, scenario: BuildkiteScenario): void;
  /** Revokes the token as an admin on buildkite.com would: from now on it answers 401 everywhere. */
  revoke(token: string): void;
  setLatency(ms: number): void;
  /** Every /v2 request in arrival order, with the bearer token it carried. */
  readonly requests: StandInRequest[];
  /** Forgets the request log, failure counters, revocations and rate-limit windows; registered tokens and the
   *  latency stay. */
  reset(): void;
  close(): Promise<void>;
};

export const MESSAGES = {
  unauthorized:
    "Authentication required. Please supply a valid API Access Token: https://buildkite.com/docs/apis/rest-api#authentication",
  forbidden: "Forbidden",
  missingScope: (scope: string) => `Your access token doesn't have the ${scope} scope`,
  rateLimited: (seconds: number) =>
    `You have exceeded your API rate limit. Please wait ${seconds} seconds before making more requests.`,
  notFound: "Not Found",
  noJob: "No job found",
} as const;

/** A value in every default job environment, standing for a customer's secret. */
export const STAND_IN_JOB_SECRET = "sk_live_st4nd1n_j0b_s3cr3t_9f8e7d6c5b4a";

export const ORG_RATE_LIMIT = 200;
const HUGE_BODY_BYTES = 5 * 1024 * 1024;
const SLOW_BODY_BYTE_MS = 100;
export const USER_RATE_LIMIT = 50;
const WINDOW_MS = 60_000;
const DAY_MS = 24 * 60 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;
const MAX_LATENCY_MS = 10 * 60_000;

type Window = { startedAt: number; count: number };
type Counters = { org: Window | undefined; user: Window };
type RouteContext = {
  request: Request;
  params: Record<string, string>;
  token: string;
  scenario: OkScenario;
  raw: BuildkiteScenario;
  origin: string;
};

export async function startBuildkiteStandIn(options: BuildkiteStandInOptions = {}): Promise<BuildkiteStandIn> {
  const host = options.host ?? "127.0.0.1";
  const scenarios = new Map<string, BuildkiteScenario>();
  const failuresServed = new Map<string, number>();
  const revoked = new Set<string>();
  const requests: StandInRequest[] = [];
  const sockets = new Set<Socket>();
  const userWindows = new Map<string, Window>();
  const orgWindows = new Map<string, Window>();
  let latencyMs = checkedLatency(options.latencyMs ?? 0);
  let closing = false;
  let releaseHangs: () => void = () => {};
  const closed = new Promise<void>((resolve) => {
    releaseHangs = resolve;
  });

  const register = (token: string, scenario: BuildkiteScenario) => {
    scenarios.set(token, scenario);
    revoked.delete(token);
    failuresServed.delete(token);
  };
  const revoke = (token: string) => {
    revoked.add(token);
  };
  const setLatency = (ms: number) => {
    latencyMs = checkedLatency(ms);
  };
  const reset = () => {
    requests.length = 0;
    failuresServed.clear();
    revoked.clear();
    userWindows.clear();
    orgWindows.clear();
  };

  /** The scenario that answers this request: resolves "fail N times, then …" against the token's history. */
  function effectiveScenario(token: string | null): BuildkiteScenario | undefined {
    if (token === null || revoked.has(token)) return undefined;
    const scenario = scenarios.get(token);
    if (!scenario || !("failures" in scenario)) return scenario;
    const served = failuresServed.get(token) ?? 0;
    if (served >= scenario.failures) return scenario.then;
    failuresServed.set(token, served + 1);
    return scenario;
  }

  /** Waits `ms` (forever when infinite), or less if the client goes away or the stand-in closes. */
  function pause(ms: number, signal: AbortSignal): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = Number.isFinite(ms) ? setTimeout(resolve, ms) : undefined;
      const stop = () => {
        clearTimeout(timer);
        resolve();
      };
      signal.addEventListener("abort", stop, { once: true });
      void closed.then(stop);
    });
  }

  /** A body that never ends: "{" and then a space every SLOW_BODY_BYTE_MS, until the client goes or the stand-in closes. */
  function dribble(signal: AbortSignal): ReadableStream<Uint8Array> {
    let started = false;
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        const first = !started;
        started = true;
        if (!first) await pause(SLOW_BODY_BYTE_MS, signal);
        if (signal.aborted || closing) controller.close();
        else controller.enqueue(new TextEncoder().encode(first ? "{" : " "));
      },
    });
  }

  /** Answers every Buildkite route the same way for the non-ok scenarios; undefined = let the route decide. */
  async function commonAnswer(request: Request, scenario: BuildkiteScenario | undefined): Promise<Response | undefined> {
    if (!scenario) return unauthorized();
    switch (scenario.kind) {
      case "unauthorized":
        return unauthorized();
      case "forbidden":
        return apiJson(
          { message: scenario.missingScope ? MESSAGES.missingScope(scenario.missingScope) : MESSAGES.forbidden },
          { status: 403 },
        );
      case "rate_limited":
        return rateLimited("rest_user", scenario.resetSeconds ?? 42, USER_RATE_LIMIT + 5, staticRateLimit({ userRemaining: 0, userReset: scenario.resetSeconds ?? 42 }));
      case "server_error":
        return serverError(scenario.status);
      case "connection_reset":
        return HttpResponse.error();
      case "hang":
        await pause(Number.POSITIVE_INFINITY, request.signal);
        return HttpResponse.error();
      case "html_body":
        return new HttpResponse(
          "<!DOCTYPE html><html><head><title>Buildkite</title></head><body><h1>Sign in</h1></body></html>",
          { status: 200, headers: { ...rateLimitHeaders(staticRateLimit()), "content-type": "text/html; charset=utf-8" } },
        );
      case "huge_body":
        return new HttpResponse(`{"uuid":"${"0".repeat(HUGE_BODY_BYTES)}"}`, {
          status: 200,
          headers: { ...rateLimitHeaders(staticRateLimit()), "content-type": "application/json; charset=utf-8" },
        });
      case "slow_body":
        return new HttpResponse(dribble(request.signal), {
          status: 200,
          // serve() streams chunked bodies as they come, instead of waiting for the whole body.
          headers: { ...rateLimitHeaders(staticRateLimit()), "content-type": "application/json; charset=utf-8", "transfer-encoding": "chunked" },
        });
      case "ok":
        if (scenario.expiresOffsetMs != null && scenario.expiresOffsetMs <= 0) return unauthorized();
        return undefined;
      case "missing_uuid":
        return undefined;
    }
  }

  const okScenarioOf = (scenario: BuildkiteScenario): OkScenario | undefined =>
    scenario.kind === "ok" ? scenario : scenario.kind === "missing_uuid" ? (scenario.base ?? { kind: "ok", scopes: [] }) : undefined;

  /** Counts the request against the token's and the organisation's windows (only when enforcing). */
  function count(token: string, scenario: BuildkiteScenario, url: URL): Counters {
    const now = Date.now();
    const hit = (windows: Map<string, Window>, key: string): Window => {
      let window = windows.get(key);
      if (!window || now - window.startedAt >= WINDOW_MS) {
        window = { startedAt: now, count: 0 };
        windows.set(key, window);
      }
      window.count += 1;
      return window;
    };
    // Organisation-scoped routes count against that organisation; the others against the token's first one.
    const org = organizationInPath(url.pathname) ?? okScenarioOf(scenario)?.organizations?.[0]?.slug;
    return { user: hit(userWindows, token), org: org === undefined ? undefined : hit(orgWindows, org) };
  }

  function countedRateLimit(counters: Counters): RateLimitState {
    const resetOf = (window: Window) => Math.max(0, Math.ceil((window.startedAt + WINDOW_MS - Date.now()) / 1000));
    return {
      orgRemaining: counters.org ? Math.max(0, ORG_RATE_LIMIT - counters.org.count) : ORG_RATE_LIMIT,
      orgReset: counters.org ? resetOf(counters.org) : WINDOW_MS / 1000,
      userRemaining: Math.max(0, USER_RATE_LIMIT - counters.user.count),
      userReset: resetOf(counters.user),
    };
  }

  /** Wraps a route: logs the request, waits out the latency, applies rate limits and the token's scenario, then runs
   *  the route for ok tokens. */
  const route =
    (answer: (context: RouteContext) => Response) =>
    async ({ request, params }: { request: Request; params: Record<string, string | readonly string[] | undefined> }) => {
      const token = bearerToken(request);
      const url = new URL(request.url);
      requests.push({ method: request.method, path: `${url.pathname}${url.search}`, token });
      await pause(latencyMs, request.signal);
      // The delay comes before Buildkite acts: a client that gave up during it leaves nothing done (no revoke).
      if (request.signal.aborted || closing) return HttpResponse.error();
      const scenario = effectiveScenario(token);
      let limits: RateLimitState | undefined;
      if (options.enforceRateLimits && token !== null && scenario) {
        const counters = count(token, scenario, url);
        limits = countedRateLimit(counters);
        if (counters.user.count > USER_RATE_LIMIT) {
          return rateLimited("rest_user", limits.userReset, counters.user.count, limits);
        }
        if (counters.org && counters.org.count > ORG_RATE_LIMIT) {
          return rateLimited("rest", limits.orgReset, counters.org.count, limits);
        }
      }
      const response =
        (await commonAnswer(request, scenario)) ??
        answer({ request, params: stringParams(params), token: token!, scenario: okScenarioOf(scenario!)!, raw: scenario!, origin: publicOrigin(request, url.origin) });
      // Real counts replace the static ones, except on the scripted 429 (which describes its own window).
      if (limits && scenario?.kind !== "rate_limited" && response.headers.has("RateLimit-Scope")) {
        for (const [name, value] of Object.entries(rateLimitHeaders(limits))) response.headers.set(name, value);
      }
      return response;
    };

  const needsScope = (scenario: OkScenario, scope: string) =>
    scenario.scopes.includes(scope) ? undefined : apiJson({ message: MESSAGES.missingScope(scope) }, { status: 403 });

  /** The organisation's data when the token reaches it (after its scope check), else Buildkite's 404. */
  function reachable(scenario: OkScenario, scope: string, slug: string): Response | { org: StandInOrganization; data: Required<StandInOrganizationData> } {
    const denied = needsScope(scenario, scope);
    if (denied) return denied;
    const org = scenario.organizations?.find((candidate) => candidate.slug === slug);
    if (!org) return notFound();
    return { org, data: { ...defaultOrganizationData(slug), ...scenario.organizationData?.[slug] } };
  }

  /** A job route: scope, organisation, pipeline, build and job must all be there. */
  function jobRoute(scope: string, answer: (job: ResolvedJob, context: RouteContext) => Response) {
    return route((context) => {
      const { scenario, params } = context;
      const found = reachable(scenario, scope, params.org ?? "");
      if (found instanceof Response) return found;
      const pipeline = found.data.pipelines.find((candidate) => candidate.slug === params.pipeline);
      const build = found.data.builds.find((candidate) => candidate.pipeline === params.pipeline && String(candidate.number) === params.number);
      if (!pipeline || !build) return notFound();
      const index = build.jobs.findIndex((job, i) => jobId(found.org.slug, build, job, i) === params.job);
      if (index < 0) return apiJson({ message: MESSAGES.noJob }, { status: 404 });
      return answer({ org: found.org, pipeline, build, job: build.jobs[index]!, index }, context);
    });
  }

  // Patterns are anchored to the stand-in's own origin: a "*/v2/…" wildcard would also answer /anything/v2/….
  const buildHandlers = (origin: string): RequestHandler[] => [
    http.get(
      `${origin}/v2/access-token`,
      route(({ token, scenario, raw }) => {
        const now = Date.now();
        const format = scenario.dateFormat === "iso" ? isoDate : docsDate;
        const body: Record<string, unknown> = {
          uuid: scenario.uuid ?? uuidFor(token),
          scopes: [...scenario.scopes],
          description: scenario.description === undefined ? "Gitar Integration" : scenario.description,
          created_at: format(new Date(now + (scenario.createdOffsetMs ?? -30 * DAY_MS))),
          expires_at: scenario.expiresOffsetMs == null ? null : format(new Date(now + scenario.expiresOffsetMs)),
        };
        if (scenario.owner) body.user = { name: scenario.owner.name, email: scenario.owner.email };
        if (raw.kind === "missing_uuid") delete body.uuid;
        return apiJson(body);
      }),
    ),
    http.delete(
      `${origin}/v2/access-token`,
      route(({ token }) => {
        revoke(token);
        return new HttpResponse(null, { status: 204, headers: rateLimitHeaders(staticRateLimit()) });
      }),
    ),
    http.get(
      `${origin}/v2/user`,
      route(({ token, scenario }) => {
        const denied = needsScope(scenario, "read_user");
        if (denied) return denied;
        const owner = scenario.owner ?? { name: "Token Owner", email: "owner@example.test" };
        return apiJson(userBody(`user:${token}`, owner));
      }),
    ),
    http.get(
      `${origin}/v2/organizations`,
      route(({ request, scenario, origin: base }) => {
        const denied = needsScope(scenario, "read_organizations");
        if (denied) return denied;
        return paginated(new URL(request.url), base, scenario.organizations ?? [], (org) => organizationBody(base, org));
      }),
    ),
    http.get(
      `${origin}/v2/organizations/:org`,
      route(({ scenario, params, origin: base }) => {
        const found = reachable(scenario, "read_organizations", params.org ?? "");
        return found instanceof Response ? found : apiJson(organizationBody(base, found.org));
      }),
    ),
    http.get(
      `${origin}/v2/organizations/:org/pipelines`,
      route(({ request, scenario, params, origin: base }) => {
        const found = reachable(scenario, "read_pipelines", params.org ?? "");
        if (found instanceof Response) return found;
        return paginated(new URL(request.url), base, found.data.pipelines, (pipeline) => pipelineBody(base, found.org.slug, pipeline));
      }),
    ),
    http.get(
      `${origin}/v2/organizations/:org/builds`,
      route(({ request, scenario, params, origin: base }) => {
        const found = reachable(scenario, "read_builds", params.org ?? "");
        if (found instanceof Response) return found;
        const now = Date.now();
        const newestFirst = [...found.data.builds].sort((a, b) => createdAt(b, now) - createdAt(a, now));
        return paginated(new URL(request.url), base, newestFirst, (build) => buildBody(base, found.org.slug, found.data.pipelines, build, now));
      }),
    ),
    http.get(
      `${origin}/v2/organizations/:org/teams`,
      route(({ request, scenario, params, origin: base }) => {
        const found = reachable(scenario, "read_teams", params.org ?? "");
        if (found instanceof Response) return found;
        return paginated(new URL(request.url), base, found.data.teams, (team) => teamBody(found.org.slug, team));
      }),
    ),
    http.get(
      `${origin}/v2/analytics/organizations/:org/suites`,
      route(({ request, scenario, params, origin: base }) => {
        const found = reachable(scenario, "read_suites", params.org ?? "");
        if (found instanceof Response) return found;
        return paginated(new URL(request.url), base, found.data.suites, (suite) => suiteBody(base, found.org.slug, suite));
      }),
    ),
    http.get(
      `${origin}/v2/organizations/:org/pipelines/:pipeline/builds/:number/jobs/:job/artifacts`,
      jobRoute("read_artifacts", (job, { request, origin: base }) =>
        paginated(new URL(request.url), base, job.job.artifacts ?? [], (artifact, i) => artifactBody(base, job, artifact, i)),
      ),
    ),
    http.get(
      `${origin}/v2/organizations/:org/pipelines/:pipeline/builds/:number/jobs/:job/log`,
      jobRoute("read_build_logs", (job, { origin: base }) => {
        const content = job.job.log ?? defaultLog(job);
        const started = (Date.now() - HOUR_MS) * 1_000_000;
        return apiJson({
          url: `${jobUrl(base, job)}/log`,
          content,
          size: Buffer.byteLength(content),
          header_times: [started, started + 1_250_000_000, started + 7_480_000_000],
        });
      }),
    ),
    http.get(
      `${origin}/v2/organizations/:org/pipelines/:pipeline/builds/:number/jobs/:job/env`,
      jobRoute("read_job_env", (job) => apiJson({ env: { ...(job.job.env ?? defaultEnv(job)) } })),
    ),
    http.all(
      `${origin}/v2/*`,
      route(() => notFound()),
    ),

    // Control API, for browser tests and benchmarks that run the stand-in in another process.
    http.post(`${origin}/__stand-in/tokens`, async ({ request }) => {
      const body = (await request.json().catch(() => null)) as { token?: unknown; scenario?: unknown } | null;
      const scenario = body?.scenario as { kind?: unknown } | undefined;
      if (typeof body?.token !== "string" || body.token === "" || typeof scenario?.kind !== "string") {
        return HttpResponse.json({ message: "expected JSON {token, scenario: {kind, …}}" }, { status: 400 });
      }
      register(body.token, scenario as BuildkiteScenario);
      return new HttpResponse(null, { status: 204 });
    }),
    http.post(`${origin}/__stand-in/revoke`, async ({ request }) => {
      const body = (await request.json().catch(() => null)) as { token?: unknown } | null;
      if (typeof body?.token !== "string" || body.token === "") {
        return HttpResponse.json({ message: "expected JSON {token}" }, { status: 400 });
      }
      revoke(body.token);
      return new HttpResponse(null, { status: 204 });
    }),
    http.post(`${origin}/__stand-in/latency`, async ({ request }) => {
      const body = (await request.json().catch(() => null)) as { ms?: unknown } | null;
      try {
        setLatency(typeof body?.ms === "number" ? body.ms : Number.NaN);
      } catch (error) {
        return HttpResponse.json({ message: (error as Error).message }, { status: 400 });
      }
      return new HttpResponse(null, { status: 204 });
    }),
    http.get(`${origin}/__stand-in/requests`, () => HttpResponse.json(requests)),
    http.post(`${origin}/__stand-in/reset`, () => {
      reset();
      return new HttpResponse(null, { status: 204 });
    }),
  ];

  let handlers: RequestHandler[] = [];
  const server = createServer((req, res) => {
    void serve(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  async function serve(req: IncomingMessage, res: ServerResponse) {
    const aborted = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) aborted.abort();
    });
    const request = await toFetchRequest(req, url, aborted.signal);
    const response = await getResponse(handlers, request);
    if (closing || res.destroyed) return;
    if (!response) {
      res.writeHead(404, { "content-type": "application/json; charset=utf-8" }).end(JSON.stringify({ message: MESSAGES.notFound }));
      return;
    }
    if (response.type === "error") {
      // A TCP reset with no bytes of response: what a dropped connection looks like to the client.
      req.socket.resetAndDestroy();
      return;
    }
    if (response.headers.get("transfer-encoding") === "chunked" && response.body) {
      res.writeHead(response.status, [...response.headers.entries()].flat());
      const reader = response.body.getReader();
      for (let next = await reader.read(); !next.done && !res.destroyed; next = await reader.read()) res.write(next.value);
      await reader.cancel().catch(() => undefined);
      res.end();
      return;
    }
    const body = Buffer.from(await response.arrayBuffer());
    res.writeHead(response.status, [...response.headers.entries()].flat());
    res.end(body);
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  handlers = buildHandlers(url);

  return {
    url,
    register,
    revoke,
    setLatency,
    requests,
    reset,
    close: async () => {
      if (closing) return;
      closing = true;
      releaseHangs();
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      await stopped;
    },
  };
}

/** What an organisation holds when its scenario says nothing: three pipelines (one without a repository), three
 *  builds across two pipelines with script, waiter and block jobs, two teams and a Test Engine suite. */
export function defaultOrganizationData(slug: string): Required<StandInOrganizationData> {
  return {
    pipelines: [
      { slug: "web-app", name: "Web App", repository: `git@github.com:${slug}/web-app.git` },
      { slug: "deploy", name: "Deploy", repository: `git@github.com:${slug}/deploy.git` },
      { slug: "scratchpad", name: "Scratchpad", repository: null },
    ],
    builds: [
      {
        number: 42,
        pipeline: "web-app",
        state: "failed",
        createdOffsetMs: -15 * 60_000,
        message: "Fix flaky checkout spec",
        jobs: [
          {
            type: "script",
            name: ":rspec: RSpec",
            state: "failed",
            artifacts: [
              { path: "tmp/junit/rspec.xml", fileSize: 48_213, mimeType: "application/xml" },
              { path: "log/test.log", fileSize: 1_204_551, mimeType: "text/plain" },
            ],
          },
          { type: "waiter" },
          { type: "script", name: ":eslint: Lint", state: "passed" },
        ],
      },
      { number: 41, pipeline: "web-app", state: "passed", createdOffsetMs: -2 * HOUR_MS, jobs: [{ type: "script", name: ":rspec: RSpec" }] },
      {
        number: 7,
        pipeline: "deploy",
        state: "passed",
        createdOffsetMs: -DAY_MS,
        message: "Deploy v2.3.1",
        jobs: [{ type: "script", name: ":rocket: Deploy" }, { type: "manual", name: "Release to production", state: "unblocked" }],
      },
    ],
    teams: [
      { slug: "platform", name: "Platform" },
      { slug: "web", name: "Web" },
    ],
    suites: [{ slug: "web-app-rspec", name: "Web App RSpec" }],
  };
}

type ResolvedJob = { org: StandInOrganization; pipeline: StandInPipeline; build: StandInBuild; job: StandInJob; index: number };

type RateLimitState = { orgRemaining: number; orgReset: number; userRemaining: number; userReset: number };

function staticRateLimit(overrides: Partial<RateLimitState> = {}): RateLimitState {
  return { orgRemaining: ORG_RATE_LIMIT - 1, orgReset: 60, userRemaining: USER_RATE_LIMIT - 1, userReset: 60, ...overrides };
}

/** Both documented sets: `RateLimit-*` for the organisation (scope rest), `RateLimit-User-*` for the user. */
function rateLimitHeaders(state: RateLimitState): Record<string, string> {
  return {
    "RateLimit-Scope": "rest",
    "RateLimit-Limit": String(ORG_RATE_LIMIT),
    "RateLimit-Remaining": String(Math.max(0, state.orgRemaining)),
    "RateLimit-Reset": String(state.orgReset),
    "RateLimit-User-Scope": "rest_user",
    "RateLimit-User-Limit": String(USER_RATE_LIMIT),
    "RateLimit-User-Remaining": String(Math.max(0, state.userRemaining)),
    "RateLimit-User-Reset": String(state.userReset),
  };
}

function apiJson(body: JsonBodyType, init: { status?: number; headers?: Record<string, string> } = {}): Response {
  return HttpResponse.json(body, {
    status: init.status ?? 200,
    headers: { ...rateLimitHeaders(staticRateLimit()), ...init.headers },
  });
}

function unauthorized(): Response {
  return apiJson({ message: MESSAGES.unauthorized }, { status: 401 });
}

function notFound(): Response {
  return apiJson({ message: MESSAGES.notFound }, { status: 404 });
}

function rateLimited(scope: "rest" | "rest_user", resetSeconds: number, current: number, state: RateLimitState): Response {
  const limit = scope === "rest" ? ORG_RATE_LIMIT : USER_RATE_LIMIT;
  return HttpResponse.json(
    { message: MESSAGES.rateLimited(resetSeconds), scope, limit, current, reset: resetSeconds },
    { status: 429, headers: rateLimitHeaders(state) },
  );
}

function serverError(status: 500 | 502 | 503): Response {
  // Buildkite does not document a 5xx body; an HTML page keeps the client from depending on one.
  const title = { 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable" }[status];
  return new HttpResponse(`<!DOCTYPE html><html><body><h1>${status} ${title}</h1></body></html>`, {
    status,
    headers: { "content-type": "text/html; charset=utf-8" },
  });
}

/** One page of a list, with Buildkite's Link header (per_page default 30, max 100). */
function paginated<T>(url: URL, origin: string, items: readonly T[], render: (item: T, index: number) => JsonBodyType): Response {
  const perPage = clampInt(url.searchParams.get("per_page"), 30, 1, 100);
  const lastPage = Math.max(1, Math.ceil(items.length / perPage));
  const page = clampInt(url.searchParams.get("page"), 1, 1, Number.MAX_SAFE_INTEGER);
  const start = (page - 1) * perPage;
  const body = items.slice(start, start + perPage).map((item, i) => render(item, start + i));
  const pageUrl = (n: number) => {
    const target = new URL(url.pathname, origin);
    target.searchParams.set("page", String(n));
    target.searchParams.set("per_page", String(perPage));
    return target.toString();
  };
  // Buildkite's order: next, last on early pages; first, prev on later ones.
  const links: string[] = [];
  if (page < lastPage) links.push(`<${pageUrl(page + 1)}>; rel="next"`, `<${pageUrl(lastPage)}>; rel="last"`);
  if (page > 1) links.push(`<${pageUrl(1)}>; rel="first"`, `<${pageUrl(Math.min(page - 1, lastPage))}>; rel="prev"`);
  return apiJson(body, links.length > 0 ? { headers: { Link: links.join(", ") } } : {});
}

function organizationBody(origin: string, org: StandInOrganization) {
  const id = uuidFor(`org:${org.slug}`);
  return {
    id,
    graphql_id: graphqlId("Organization", id),
    url: `${origin}/v2/organizations/${org.slug}`,
    web_url: `https://buildkite.com/${org.slug}`,
    name: org.name,
    slug: org.slug,
    agents_url: `${origin}/v2/organizations/${org.slug}/agents`,
    emojis_url: `${origin}/v2/organizations/${org.slug}/emojis`,
    created_at: isoDate(new Date(Date.UTC(2021, 2, 4, 10, 0, 0))),
    pipelines_url: `${origin}/v2/organizations/${org.slug}/pipelines`,
  };
}

function userBody(seed: string, person: { name: string; email: string }) {
  const id = uuidFor(seed);
  return {
    id,
    graphql_id: graphqlId("User", id),
    name: person.name,
    email: person.email,
    avatar_url: "https://www.gravatar.com/avatar/00000000000000000000000000000000",
    created_at: isoDate(new Date(Date.UTC(2022, 0, 18, 2, 51, 30))),
  };
}

function pipelineBody(origin: string, orgSlug: string, pipeline: StandInPipeline) {
  const id = uuidFor(`pipeline:${orgSlug}/${pipeline.slug}`);
  const api = `${origin}/v2/organizations/${orgSlug}/pipelines/${pipeline.slug}`;
  return {
    id,
    graphql_id: graphqlId("Pipeline", id),
    url: api,
    web_url: `https://buildkite.com/${orgSlug}/${pipeline.slug}`,
    name: pipeline.name,
    description: null,
    slug: pipeline.slug,
    repository: pipeline.repository,
    cluster_id: null,
    branch_configuration: null,
    default_branch: "main",
    skip_queued_branch_builds: false,
    skip_queued_branch_builds_filter: null,
    cancel_running_branch_builds: false,
    cancel_running_branch_builds_filter: null,
    provider: pipeline.repository
      ? { id: "github", webhook_url: "", settings: { trigger_mode: "code", build_pull_requests: true, publish_commit_status: true } }
      : { id: "unknown", webhook_url: "", settings: {} },
    builds_url: `${api}/builds`,
    badge_url: `https://badge.buildkite.com/${createHash("sha256").update(id).digest("hex").slice(0, 50)}.svg`,
    created_at: isoDate(new Date(Date.UTC(2023, 4, 9, 21, 5, 59))),
    archived_at: null,
    env: null,
    scheduled_builds_count: 0,
    running_builds_count: 0,
    scheduled_jobs_count: 0,
    running_jobs_count: 0,
    waiting_jobs_count: 0,
    visibility: "private",
    tags: null,
  };
}

function jobId(orgSlug: string, build: StandInBuild, job: StandInJob, index: number): string {
  return job.id ?? uuidFor(`job:${orgSlug}/${build.pipeline}/${build.number}/${index}`);
}

function createdAt(build: StandInBuild, now: number): number {
  return now + (build.createdOffsetMs ?? -HOUR_MS);
}

function buildBody(origin: string, orgSlug: string, pipelines: readonly StandInPipeline[], build: StandInBuild, now: number) {
  const pipeline = pipelines.find((candidate) => candidate.slug === build.pipeline) ?? { slug: build.pipeline, name: build.pipeline, repository: null };
  const id = uuidFor(`build:${orgSlug}/${build.pipeline}/${build.number}`);
  const created = createdAt(build, now);
  const finished = build.state === "running" || build.state === "scheduled" ? null : isoDate(new Date(created + 6 * 60_000));
  const webUrl = `https://buildkite.com/${orgSlug}/${build.pipeline}/builds/${build.number}`;
  return {
    id,
    graphql_id: graphqlId("Build", id),
    url: `${origin}/v2/organizations/${orgSlug}/pipelines/${build.pipeline}/builds/${build.number}`,
    web_url: webUrl,
    number: build.number,
    state: build.state,
    cancel_reason: null,
    blocked: false,
    message: build.message ?? "Merge pull request #1 from feature/branch",
    commit: createHash("sha1").update(id).digest("hex"),
    branch: build.branch ?? "main",
    env: {},
    source: "webhook",
    creator: null,
    jobs: build.jobs.map((job, index) => {
      const resolved = { org: { slug: orgSlug, name: orgSlug }, pipeline, build, job, index };
      return jobBody(origin, resolved, webUrl, created);
    }),
    created_at: isoDate(new Date(created)),
    scheduled_at: isoDate(new Date(created)),
    started_at: isoDate(new Date(created + 20_000)),
    failing_at: build.state === "failed" ? isoDate(new Date(created + 4 * 60_000)) : null,
    finished_at: finished,
    meta_data: {},
    pull_request: null,
    rebuilt_from: null,
    pipeline: pipelineBody(origin, orgSlug, pipeline),
  };
}

function jobBody(origin: string, resolved: ResolvedJob, buildWebUrl: string, buildCreated: number) {
  const { job } = resolved;
  const id = jobId(resolved.org.slug, resolved.build, job, resolved.index);
  const common = { id, graphql_id: graphqlId("Job", id), type: job.type };
  const state = job.state ?? resolved.build.state;
  switch (job.type) {
    case "waiter":
      return common;
    case "manual":
      return { ...common, label: job.name ?? "Continue", state, web_url: null, unblocked_by: null, unblocked_at: null, unblockable: state === "blocked" };
    case "trigger":
      return { ...common, name: job.name ?? "Trigger", state, async: false, triggered_build: null, web_url: `${buildWebUrl}#${id}` };
    case "script": {
      const api = jobUrl(origin, resolved);
      return {
        ...common,
        name: job.name ?? "Run tests",
        step_key: null,
        priority: { number: 0 },
        agent_query_rules: ["queue=default"],
        state,
        build_url: `${origin}/v2/organizations/${resolved.org.slug}/pipelines/${resolved.build.pipeline}/builds/${resolved.build.number}`,
        web_url: `${buildWebUrl}#${id}`,
        log_url: `${api}/log`,
        raw_log_url: `${api}/log.txt`,
        artifacts_url: `${api}/artifacts`,
        command: "bin/ci",
        soft_failed: false,
        exit_status: state === "failed" ? 1 : 0,
        artifact_paths: job.artifacts?.length ? "tmp/**/*;log/*" : null,
        agent: null,
        created_at: isoDate(new Date(buildCreated)),
        scheduled_at: isoDate(new Date(buildCreated)),
        runnable_at: isoDate(new Date(buildCreated + 5_000)),
        started_at: isoDate(new Date(buildCreated + 20_000)),
        finished_at: isoDate(new Date(buildCreated + 5 * 60_000)),
        retried: false,
        retried_in_job_id: null,
        retries_count: null,
        retry_type: null,
        parallel_group_index: null,
        parallel_group_total: null,
        matrix: null,
        cluster_id: null,
        cluster_queue_id: null,
      };
    }
  }
}

function jobUrl(origin: string, { org, build, job, index }: ResolvedJob): string {
  return `${origin}/v2/organizations/${org.slug}/pipelines/${build.pipeline}/builds/${build.number}/jobs/${jobId(org.slug, build, job, index)}`;
}

function artifactBody(origin: string, resolved: ResolvedJob, artifact: StandInArtifact, index: number) {
  const jobIdValue = jobId(resolved.org.slug, resolved.build, resolved.job, resolved.index);
  const id = uuidFor(`artifact:${jobIdValue}/${index}`);
  const slash = artifact.path.lastIndexOf("/");
  const url = `${jobUrl(origin, resolved)}/artifacts/${id}`;
  return {
    id,
    job_id: jobIdValue,
    url,
    download_url: `${url}/download`,
    state: "finished",
    path: artifact.path,
    dirname: slash >= 0 ? artifact.path.slice(0, slash) : ".",
    filename: artifact.path.slice(slash + 1),
    mime_type: artifact.mimeType ?? "application/octet-stream",
    file_size: artifact.fileSize,
    glob_path: null,
    original_path: null,
    sha1sum: createHash("sha1").update(`${id}:${artifact.path}`).digest("hex"),
  };
}

function teamBody(orgSlug: string, team: StandInTeam) {
  const id = uuidFor(`team:${orgSlug}/${team.slug}`);
  return {
    id,
    graphql_id: graphqlId("Team", id),
    name: team.name,
    slug: team.slug,
    description: "",
    created_at: isoDate(new Date(Date.UTC(2023, 2, 14, 0, 45, 16))),
    privacy: "visible",
    default: false,
    created_by: userBody(`team-creator:${orgSlug}`, { name: "Organization Admin", email: "admin@example.test" }),
  };
}

function suiteBody(origin: string, orgSlug: string, suite: StandInSuite) {
  return {
    id: uuidFor(`suite:${orgSlug}/${suite.slug}`),
    slug: suite.slug,
    name: suite.name,
    url: `${origin}/v2/analytics/organizations/${orgSlug}/suites/${suite.slug}`,
    web_url: `https://buildkite.com/organizations/${orgSlug}/analytics/suites/${suite.slug}`,
    default_branch: "main",
  };
}

function defaultLog({ build, job }: ResolvedJob): string {
  return [
    `~~~ Preparing working directory`,
    `$ cd /var/lib/buildkite-agent/builds/agent-1/${build.pipeline}`,
    `--- ${job.name ?? "Run tests"}`,
    `$ bin/ci`,
    build.state === "failed" ? "1 example, 1 failure" : "42 examples, 0 failures",
    "",
  ].join("\n");
}

function defaultEnv({ org, build, job, index }: ResolvedJob): Record<string, string> {
  return {
    CI: "true",
    BUILDKITE: "true",
    BUILDKITE_ORGANIZATION_SLUG: org.slug,
    BUILDKITE_PIPELINE_SLUG: build.pipeline,
    BUILDKITE_BUILD_NUMBER: String(build.number),
    BUILDKITE_JOB_ID: jobId(org.slug, build, job, index),
    BUILDKITE_BRANCH: build.branch ?? "main",
    BUILDKITE_COMMAND: "bin/ci",
    DATABASE_URL: "postgres://ci:st4nd1n-db-p4ssw0rd@db.internal:5432/ci",
    STRIPE_SECRET_KEY: STAND_IN_JOB_SECRET,
  };
}

function bearerToken(request: Request): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get("authorization") ?? "");
  return match?.[1] ?? null;
}

/** The organisation an organisation-scoped path names, decoded. */
function organizationInPath(pathname: string): string | undefined {
  const match = /^\/v2\/(?:analytics\/)?organizations\/([^/]+)(?:\/|$)/.exec(pathname);
  if (!match) return undefined;
  try {
    return decodeURIComponent(match[1]!);
  } catch {
    return match[1];
  }
}

function stringParams(params: Record<string, string | readonly string[] | undefined>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(params)) {
    if (typeof value === "string") result[key] = value;
  }
  return result;
}

/** The origin the client addressed (e.g. localhost vs 127.0.0.1), so URLs we hand back point where it already goes. */
function publicOrigin(request: Request, fallback: string): string {
  const host = request.headers.get("host");
  return host ? `http://${host}` : fallback;
}

async function toFetchRequest(req: IncomingMessage, origin: string, signal: AbortSignal): Promise<Request> {
  const url = new URL(req.url ?? "/", origin);
  const headers = new Headers();
  for (let index = 0; index < req.rawHeaders.length; index += 2) {
    headers.append(req.rawHeaders[index]!, req.rawHeaders[index + 1]!);
  }
  const method = req.method ?? "GET";
  let body: Buffer | undefined;
  if (method !== "GET" && method !== "HEAD") {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    body = Buffer.concat(chunks);
  }
  return new Request(url, { method, headers, body: body && body.length > 0 ? new Uint8Array(body) : undefined, signal });
}

function checkedLatency(ms: number): number {
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_LATENCY_MS) throw new Error(`latency must be 0-${MAX_LATENCY_MS} ms, got ${ms}`);
  return ms;
}

function clampInt(raw: string | null, fallback: number, min: number, max: number): number {
  const value = raw === null ? Number.NaN : Number.parseInt(raw, 10);
  return Number.isFinite(value) ? Math.min(max, Math.max(min, value)) : fallback;
}

function uuidFor(seed: string): string {
  const hex = createHash("sha256").update(seed).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function graphqlId(type: string, id: string): string {
  return Buffer.from(`${type}---${id}`).toString("base64");
}

function pad(value: number): string {
  return String(value).padStart(2, "0");
}

/** "2025-07-16 06:07:42 UTC", the format in Buildkite's docs. */
function docsDate(date: Date): string {
  return (
    `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())} ` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} UTC`
  );
}

function isoDate(date: Date): string {
  return date.toISOString();
}
