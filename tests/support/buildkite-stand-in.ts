import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { getResponse, http, HttpResponse, type JsonBodyType, type RequestHandler } from "msw";

/**
 * A stand-in for Buildkite's REST API on a real local port, so the app's real undici client is what gets tested
 * (msw's interceptors cannot see undici's own dispatcher). The routes are msw handlers; a small node:http server
 * turns each request into a Fetch Request and answers with msw's getResponse. Status codes, bodies and
 * RateLimit-* headers follow docs/buildkite-api.md. What a token gets is chosen per bearer token by a scenario.
 */

export type StandInOrganization = { slug: string; name: string };

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
  organizations?: readonly StandInOrganization[];
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
  /** Like `base` (default: no scopes), but the /v2/access-token body lacks `uuid`. */
  | { kind: "missing_uuid"; base?: OkScenario };

export type StandInRequest = { method: string; path: string; token: string | null };

export type BuildkiteStandIn = {
  url: string;
  register(token: string, scenario: BuildkiteScenario): void;
  /** Every /v2 request in arrival order, with the bearer token it carried. */
  readonly requests: StandInRequest[];
  /** Forgets the request log, failure counters and revocations; registered tokens stay. */
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
} as const;

const ORG_LIMIT = 200;
const USER_LIMIT = 50;
const WINDOW_SECONDS = 60;
const DAY_MS = 24 * 60 * 60 * 1000;

export async function startBuildkiteStandIn(options: { port?: number; host?: string } = {}): Promise<BuildkiteStandIn> {
  const host = options.host ?? "127.0.0.1";
  const scenarios = new Map<string, BuildkiteScenario>();
  const failuresServed = new Map<string, number>();
  const revoked = new Set<string>();
  const requests: StandInRequest[] = [];
  const sockets = new Set<Socket>();
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
  const reset = () => {
    requests.length = 0;
    failuresServed.clear();
    revoked.clear();
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
        return rateLimited(scenario.resetSeconds ?? 42);
      case "server_error":
        return serverError(scenario.status);
      case "connection_reset":
        return HttpResponse.error();
      case "hang":
        await new Promise<void>((resolve) => {
          request.signal.addEventListener("abort", () => resolve(), { once: true });
          void closed.then(resolve);
        });
        return HttpResponse.error();
      case "html_body":
        return new HttpResponse(
          "<!DOCTYPE html><html><head><title>Buildkite</title></head><body><h1>Sign in</h1></body></html>",
          { status: 200, headers: { ...rateLimitHeaders(USER_LIMIT - 1), "content-type": "text/html; charset=utf-8" } },
        );
      case "ok":
        if (scenario.expiresOffsetMs != null && scenario.expiresOffsetMs <= 0) return unauthorized();
        return undefined;
      case "missing_uuid":
        return undefined;
    }
  }

  const okScenarioOf = (scenario: BuildkiteScenario): OkScenario | undefined =>
    scenario.kind === "ok" ? scenario : scenario.kind === "missing_uuid" ? (scenario.base ?? { kind: "ok", scopes: [] }) : undefined;

  /** Wraps a route: logs the request, applies the token's scenario, then runs the route for ok tokens. */
  const route =
    (answer: (context: { request: Request; token: string; scenario: OkScenario; raw: BuildkiteScenario }) => Response) =>
    async ({ request }: { request: Request }) => {
      const token = bearerToken(request);
      const url = new URL(request.url);
      requests.push({ method: request.method, path: `${url.pathname}${url.search}`, token });
      const scenario = effectiveScenario(token);
      const common = await commonAnswer(request, scenario);
      if (common) return common;
      return answer({ request, token: token!, scenario: okScenarioOf(scenario!)!, raw: scenario! });
    };

  const needsScope = (scenario: OkScenario, scope: string) =>
    scenario.scopes.includes(scope) ? undefined : apiJson({ message: MESSAGES.missingScope(scope) }, { status: 403 });

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
        revoked.add(token);
        return new HttpResponse(null, { status: 204, headers: rateLimitHeaders(USER_LIMIT - 1) });
      }),
    ),
    http.get(
      `${origin}/v2/user`,
      route(({ token, scenario }) => {
        const denied = needsScope(scenario, "read_user");
        if (denied) return denied;
        const owner = scenario.owner ?? { name: "Token Owner", email: "owner@example.test" };
        return apiJson({
          id: uuidFor(`user:${token}`),
          graphql_id: Buffer.from(`User---${uuidFor(`user:${token}`)}`).toString("base64"),
          name: owner.name,
          email: owner.email,
          avatar_url: "https://www.gravatar.com/avatar/00000000000000000000000000000000",
          created_at: isoDate(new Date(Date.now() - 365 * DAY_MS)),
        });
      }),
    ),
    http.get(
      `${origin}/v2/organizations`,
      route(({ request, scenario }) => {
        const denied = needsScope(scenario, "read_organizations");
        if (denied) return denied;
        return organizationsPage(new URL(request.url), publicOrigin(request, origin), scenario.organizations ?? []);
      }),
    ),
    http.all(
      `${origin}/v2/*`,
      route(() => apiJson({ message: MESSAGES.notFound }, { status: 404 })),
    ),

    // Control API, for browser tests that run the stand-in in another process.
    http.post(`${origin}/__stand-in/tokens`, async ({ request }) => {
      const body = (await request.json().catch(() => null)) as { token?: unknown; scenario?: unknown } | null;
      const scenario = body?.scenario as { kind?: unknown } | undefined;
      if (typeof body?.token !== "string" || body.token === "" || typeof scenario?.kind !== "string") {
        return HttpResponse.json({ message: "expected JSON {token, scenario: {kind, …}}" }, { status: 400 });
      }
      register(body.token, scenario as BuildkiteScenario);
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

function bearerToken(request: Request): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get("authorization") ?? "");
  return match?.[1] ?? null;
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

function rateLimitHeaders(userRemaining: number, resetSeconds = WINDOW_SECONDS): Record<string, string> {
  const remaining = String(Math.max(0, userRemaining));
  return {
    "RateLimit-Scope": "rest",
    "RateLimit-Limit": String(ORG_LIMIT),
    "RateLimit-Remaining": String(Math.max(0, ORG_LIMIT - (USER_LIMIT - userRemaining))),
    "RateLimit-Reset": String(resetSeconds),
    "RateLimit-User-Limit": String(USER_LIMIT),
    "RateLimit-User-Remaining": remaining,
    "RateLimit-User-Reset": String(resetSeconds),
  };
}

function apiJson(body: JsonBodyType, init: { status?: number; headers?: Record<string, string> } = {}): Response {
  return HttpResponse.json(body, {
    status: init.status ?? 200,
    headers: { ...rateLimitHeaders(USER_LIMIT - 1), ...init.headers },
  });
}

function unauthorized(): Response {
  return apiJson({ message: MESSAGES.unauthorized }, { status: 401 });
}

function rateLimited(resetSeconds: number): Response {
  const current = USER_LIMIT + 5;
  return HttpResponse.json(
    { message: MESSAGES.rateLimited(resetSeconds), scope: "rest_user", limit: USER_LIMIT, current, reset: resetSeconds },
    {
      status: 429,
      headers: {
        ...rateLimitHeaders(0, resetSeconds),
        "RateLimit-Scope": "rest_user",
        "RateLimit-Limit": String(USER_LIMIT),
        "RateLimit-Remaining": "0",
      },
    },
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

function organizationsPage(url: URL, origin: string, organizations: readonly StandInOrganization[]): Response {
  const perPage = clampInt(url.searchParams.get("per_page"), 30, 1, 100);
  const lastPage = Math.max(1, Math.ceil(organizations.length / perPage));
  const page = clampInt(url.searchParams.get("page"), 1, 1, Number.MAX_SAFE_INTEGER);
  const items = organizations.slice((page - 1) * perPage, page * perPage).map((org) => organizationBody(origin, org));
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
  return apiJson(items, links.length > 0 ? { headers: { Link: links.join(", ") } } : {});
}

function organizationBody(origin: string, org: StandInOrganization) {
  const id = uuidFor(`org:${org.slug}`);
  return {
    id,
    graphql_id: Buffer.from(`Organization---${id}`).toString("base64"),
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

function clampInt(raw: string | null, fallback: number, min: number, max: number): number {
  const value = raw === null ? Number.NaN : Number.parseInt(raw, 10);
  return Number.isFinite(value) ? Math.min(max, Math.max(min, value)) : fallback;
}

function uuidFor(seed: string): string {
  const hex = createHash("sha256").update(seed).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
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
