import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { getResponse, http, HttpResponse, type RequestHandler } from "msw";
import {
  type BuildkiteScenario,
  DAY_MS,
  HOUR_MS,
  MESSAGES,
  type OkScenario,
  ORG_RATE_LIMIT,
  type StandInOrganization,
  type StandInOrganizationData,
  USER_RATE_LIMIT,
} from "./buildkite-stand-in-model";
import {
  apiJson,
  artifactBody,
  bearerToken,
  buildBody,
  checkedLatency,
  createdAt,
  defaultEnv,
  defaultLog,
  defaultOrganizationData,
  docsDate,
  isoDate,
  jobId,
  jobUrl,
  notFound,
  organizationBody,
  organizationInPath,
  paginated,
  pipelineBody,
  publicOrigin,
  rateLimited,
  rateLimitHeaders,
  type RateLimitState,
  type ResolvedJob,
  serverError,
  staticRateLimit,
  stringParams,
  suiteBody,
  teamBody,
  toFetchRequest,
  unauthorized,
  userBody,
  uuidFor,
} from "./buildkite-stand-in-responses";

export * from "./buildkite-stand-in-model";
export { defaultOrganizationData } from "./buildkite-stand-in-responses";

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

const HUGE_BODY_BYTES = 5 * 1024 * 1024;
const SLOW_BODY_BYTE_MS = 100;
const WINDOW_MS = 60_000;

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
