import "server-only";

import path from "node:path";
import { z } from "zod";

/**
 * Every environment variable the app reads, parsed once. Nothing else in the code base reads process.env
 * (the AWS SDK reads its own standard variables: AWS_REGION, credentials, AWS_ENDPOINT_URL_SECRETS_MANAGER).
 * `.env.example` documents each of these; keep the two in step.
 */

const optionalText = z
  .string()
  .trim()
  .transform((value) => (value === "" ? undefined : value))
  .optional();

const booleanFlag = z
  .enum(["true", "false", "1", "0", ""])
  .optional()
  .transform((value) => (value === undefined || value === "" ? undefined : value === "true" || value === "1"));

/** A number variable set to "" means unset (as with text variables), not 0. */
/** 127.0.0.0/8, ::1 and localhost: this machine. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return host === "localhost" || host === "::1" || /^127(\.\d{1,3}){3}$/.test(host);
}

/** A name the app answers to: a hostname (or IP address) and, optionally, the one port it must come with. */
export type HostPattern = { hostname: string; port?: string };

// `name`, `name:port`, `1.2.3.4:port`, `[v6]` or `[v6]:port`, as in a Host header.
const HOST_WITH_PORT = /^(?:\[([0-9a-f:.]+)\]|([a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*))(?::(\d{1,5}))?$/i;

/** Reads `name[:port]` (a Host header or an ALLOWED_HOSTS entry); null when it is not one. */
export function parseHostPattern(value: string): HostPattern | null {
  const match = HOST_WITH_PORT.exec(value.trim());
  if (!match) return null;
  const [, ipv6, name, port] = match;
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65_535)) return null;
  const hostname = (ipv6 ?? name ?? "").toLowerCase();
  return port === undefined ? { hostname } : { hostname, port: String(Number(port)) };
}

const blankAsUnset = (value: unknown) => (typeof value === "string" && value.trim() === "" ? undefined : value);
const wholeNumber = (schema: z.ZodNumber, fallback: number, message = "must be a whole number") =>
  z.preprocess(blankAsUnset, z.coerce.number({ message }).pipe(schema).default(fallback));

const milliseconds = (fallback: number) => wholeNumber(z.number().int().min(50).max(120_000), fallback);

const base64Key = z
  .string()
  .trim()
  .refine((value) => Buffer.from(value, "base64").length === 32 && /^[A-Za-z0-9+/]+={0,2}$/.test(value), {
    message: "must be 32 random bytes in base64 (e.g. `openssl rand -base64 32`)",
  });

const environmentSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  PORT: wholeNumber(z.number().int().min(1).max(65_535), 3000),
  HOST: optionalText,
  DATA_DIR: z.string().trim().min(1).default(".data"),
  DATABASE_URL: optionalText.pipe(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, { message: "must be a postgres:// or postgresql:// URL" })
      .optional(),
  ),
  // Set by `npm start` for the Next process when it started the embedded database; never by hand. Kept apart from
  // DATABASE_URL, which means "a database of your own" to the rules below (demo mode, the local secret store).
  GITAR_EMBEDDED_DATABASE_URL: optionalText,
  DATABASE_POOL_SIZE: wholeNumber(z.number().int().min(1).max(100), 10),
  CONNECTION_LOCK_WAIT_MS: milliseconds(5_000),
  API_RATE_LIMIT_PER_KEY: wholeNumber(z.number().int().min(1).max(100_000), 120),
  API_RATE_LIMIT_PER_ORGANIZATION: wholeNumber(z.number().int().min(1).max(1_000_000), 600),
  JOBS_IN_APP: booleanFlag,
  VIEW_CACHE: booleanFlag,

  SECRETS_BACKEND: z.enum(["local", "aws"]).optional(),
  SECRETS_PREFIX: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9/_+=.@-]{1,200}$/, {
      message: "may hold only letters, digits and / _ + = . @ - (Secrets Manager's name characters)",
    })
    .transform((value) => value.replace(/^\/+|\/+$/g, ""))
    .default("gitar"),
  SECRETS_KMS_KEY_ID: optionalText,
  SECRETS_ENCRYPTION_KEY: optionalText.pipe(base64Key.optional()),
  // Read by Next itself when it builds (the key is embedded in the build); checked here so a bad one is named at
  // start-up rather than failing every form. Several instances built apart need the same one.
  NEXT_SERVER_ACTIONS_ENCRYPTION_KEY: optionalText.pipe(base64Key.optional()),
  SECRETS_TIMEOUT_MS: milliseconds(5_000),
  SECRETS_RECOVERY_DAYS: wholeNumber(
    z
      .number({ message: "must be a whole number of days from 7 to 30" })
      .int({ message: "must be a whole number of days from 7 to 30" })
      .min(7, { message: "must be at least 7 (Secrets Manager's shortest recovery window)" })
      .max(30, { message: "must be at most 30 (Secrets Manager's longest recovery window)" }),
    7,
    "must be a whole number of days from 7 to 30",
  ),

  BUILDKITE_API_URL: z
    .url({ protocol: /^https?$/, message: "must be an http(s) URL such as https://api.buildkite.com" })
    // The token travels in its Authorization header: in clear text only to this machine (a local stand-in).
    .refine((value) => !URL.canParse(value) || new URL(value).protocol !== "http:" || isLoopbackHost(new URL(value).hostname), {
      message: "must be https:// (the token is sent with every call); http:// is accepted only for localhost",
    })
    .transform((value) => value.replace(/\/+$/, ""))
    .default("https://api.buildkite.com"),
  BUILDKITE_CONNECT_TIMEOUT_MS: milliseconds(3_000),
  OPERATION_DEADLINE_MS: milliseconds(25_000),
  BUILDKITE_TIMEOUT_MS: milliseconds(8_000),
  BUILDKITE_VERIFY_INTERVAL_MINUTES: wholeNumber(
    z
      .number({ message: "must be a whole number of minutes from 5 to 10080 (a week)" })
      .int({ message: "must be a whole number of minutes from 5 to 10080 (a week)" })
      .min(5, { message: "must be at least 5 minutes" })
      .max(10_080, { message: "must be at most 10080 minutes (a week)" }),
    360,
    "must be a whole number of minutes from 5 to 10080 (a week)",
  ),
  BUILDKITE_VERIFY_CONCURRENCY: wholeNumber(z.number().int().min(1).max(200), 16),

  SMTP_URL: optionalText.pipe(
    z
      .url({ protocol: /^smtps?$/, message: "must be an smtp:// or smtps:// URL, such as smtps://user:password@smtp.example.com:465" })
      .optional(),
  ),
  SMTP_FROM: optionalText,
  WEBHOOKS_ALLOW_PRIVATE_NETWORKS: booleanFlag,

  AUTH_SECRET: optionalText,
  AUTH_URL: optionalText.pipe(
    z
      .url({ protocol: /^https?$/, message: "must be the app's public URL, such as https://gitar.example.com" })
      .optional(),
  ),
  AUTH_DEMO: booleanFlag,
  TRUST_PROXY: booleanFlag,
  ALLOWED_HOSTS: optionalText
    .transform((value) =>
      value
        ?.split(",")
        .map((entry) => entry.trim())
        .filter(Boolean),
    )
    .pipe(
      z
        .array(z.string())
        .refine((entries) => entries.every((entry) => parseHostPattern(entry) !== null), {
          message: "must be a comma-separated list of host names, each optionally with :port (e.g. gitar.example.com,gitar.internal:8080)",
        })
        .optional(),
    ),
  AUTH_GITHUB_ID: optionalText,
  AUTH_GITHUB_SECRET: optionalText,
  AUTH_GOOGLE_ID: optionalText,
  AUTH_GOOGLE_SECRET: optionalText,
  AUTH_OIDC_ISSUER: optionalText.pipe(z.url({ message: "must be the issuer's https URL" }).optional()),
  AUTH_OIDC_ID: optionalText,
  AUTH_OIDC_SECRET: optionalText,
  AUTH_OIDC_NAME: z.string().trim().min(1).default("Single sign-on"),
});

type Environment = z.infer<typeof environmentSchema>;

export type IdentityProviderId = "github" | "google" | "oidc";

export type AppConfig = {
  nodeEnv: Environment["NODE_ENV"];
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  databasePoolSize: number;
  /** How long a change waits for another change of the same organisation's connection before answering "busy". */
  connectionLockWaitMs: number;
  /** The most one change (connect, rotate, disconnect, verify, diagnostics) may take, all its calls included. */
  operationDeadlineMs: number;
  /** Whether `npm start` runs the job runner in its own process (off when `npm run worker` runs it elsewhere). */
  jobsInApp: boolean;
  /** Whether page views keep the rows they show between requests, dropped on each change (lib/db/view-cache.ts). */
  viewCache: boolean;
  /** API requests a minute: per caller (an API key or a person), and per organisation across its callers. */
  apiRateLimits: { perCaller: number; perOrganization: number };
  /** Whether a reverse proxy in front of the app sets X-Forwarded-For/-Host/-Proto (TRUST_PROXY); else they are dropped. */
  trustProxy: boolean;
  /** The Host names requests may carry (proxy.ts answers any other with 421): AUTH_URL's, loopback names, ALLOWED_HOSTS. */
  allowedHosts: HostPattern[];
  secrets: {
    backend: "local" | "aws";
    prefix: string;
    kmsKeyId: string | undefined;
    encryptionKey: Buffer | undefined;
    timeoutMs: number;
    recoveryDays: number;
  };
  buildkite: {
    apiUrl: string;
    connectTimeoutMs: number;
    timeoutMs: number;
    verifyIntervalMinutes: number;
    verifyConcurrency: number;
  };
  notifications: {
    /** Where notification emails go out (SMTP_URL); none are sent without it. */
    smtpUrl: string | undefined;
    /** The From address of notification emails. */
    mailFrom: string;
    /** WEBHOOKS_ALLOW_PRIVATE_NETWORKS: deliver to private/loopback addresses and over http:// (development, tests). */
    allowPrivateNetworks: boolean;
    /** Where links in emails point (AUTH_URL, else this machine). */
    appUrl: string;
  };
  auth: {
    secret: string | undefined;
    /** The app's public URL (AUTH_URL), when set. */
    url: string | undefined;
    /**
     * Whether session cookies carry Secure (and Auth.js's __Secure- names): with an https AUTH_URL, and always when
     * the app serves other machines; on this machine alone (demo, development) Auth.js decides from the request.
     */
    secureCookies: boolean | undefined;
    demoMode: boolean;
    providers: {
      github?: { clientId: string; clientSecret: string };
      google?: { clientId: string; clientSecret: string };
      oidc?: { issuer: string; clientId: string; clientSecret: string; name: string };
    };
  };
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Configuration is invalid:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

function pairedProvider(
  env: Environment,
  idKey: "AUTH_GITHUB_ID" | "AUTH_GOOGLE_ID",
  secretKey: "AUTH_GITHUB_SECRET" | "AUTH_GOOGLE_SECRET",
  problems: string[],
) {
  const clientId = env[idKey];
  const clientSecret = env[secretKey];
  if (clientId && clientSecret) return { clientId, clientSecret };
  if (clientId || clientSecret) problems.push(`${clientId ? secretKey : idKey}: must be set together with ${clientId ? idKey : secretKey}`);
  return undefined;
}

const PROVIDER_VARIABLES =
  "AUTH_GITHUB_ID and AUTH_GITHUB_SECRET, AUTH_GOOGLE_ID and AUTH_GOOGLE_SECRET, or AUTH_OIDC_ISSUER, AUTH_OIDC_ID and AUTH_OIDC_SECRET";

/**
 * Demo mode (sample organisations, accounts with a published password) only where it cannot meet real data or real
 * people: by default only on the embedded database with no identity provider; AUTH_DEMO=true forces it on (a loopback
 * HOST is still required, checked by the caller), AUTH_DEMO=false off.
 */
function demoModeOf(env: Environment, anyProvider: boolean): boolean {
  if (env.AUTH_DEMO !== undefined) return env.AUTH_DEMO;
  return !anyProvider && !env.DATABASE_URL;
}

// A half-configured provider already has a problem of its own, naming what is missing.
const someProviderVariable = (env: Environment) =>
  [env.AUTH_GITHUB_ID, env.AUTH_GITHUB_SECRET, env.AUTH_GOOGLE_ID, env.AUTH_GOOGLE_SECRET, env.AUTH_OIDC_ISSUER, env.AUTH_OIDC_ID, env.AUTH_OIDC_SECRET].some(Boolean);

function noProviderProblem(env: Environment): string {
  const why =
    env.AUTH_DEMO === false
      ? "AUTH_DEMO=false turns demo mode off"
      : "demo mode (accounts with a published password) is off with DATABASE_URL, a database that may hold real organisations";
  return (
    `AUTH_GITHUB_ID/SECRET, AUTH_GOOGLE_ID/SECRET or AUTH_OIDC_ISSUER/ID/SECRET: no identity provider is configured and ${why}, ` +
    `so nobody could sign in. Configure one: ${PROVIDER_VARIABLES}. (To try the app on this machine only, leave ` +
    "DATABASE_URL unset to use the embedded database, or set AUTH_DEMO=true with HOST=127.0.0.1.)"
  );
}

/**
 * The Host names requests may carry. AUTH_URL's host (with its port, if it names one); on a loopback HOST, this
 * machine's names on any port (port forwarding and local proxies keep working; a rebinding attacker's name is not
 * among them); ALLOWED_HOSTS' entries (any port unless the entry names one).
 */
function allowedHostsOf(env: Environment, host: string): HostPattern[] {
  const patterns: HostPattern[] = [];
  if (env.AUTH_URL) {
    const url = new URL(env.AUTH_URL);
    patterns.push({ hostname: url.hostname.replace(/^\[|\]$/g, "").toLowerCase(), ...(url.port ? { port: url.port } : {}) });
  }
  if (isLoopbackHost(host)) {
    for (const name of new Set(["localhost", "127.0.0.1", "::1", host.replace(/^\[|\]$/g, "").toLowerCase()])) {
      patterns.push({ hostname: name });
    }
  }
  for (const entry of env.ALLOWED_HOSTS ?? []) patterns.push(parseHostPattern(entry)!);
  return patterns;
}

/** Parses an environment (process.env by default). Throws ConfigError naming every bad variable. */
export function parseConfig(source: Record<string, string | undefined> = process.env): AppConfig {
  const parsed = environmentSchema.safeParse(source);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join(".") || "environment"}: ${issue.message}`));
  }
  const env = parsed.data;
  const problems: string[] = [];

  const github = pairedProvider(env, "AUTH_GITHUB_ID", "AUTH_GITHUB_SECRET", problems);
  const google = pairedProvider(env, "AUTH_GOOGLE_ID", "AUTH_GOOGLE_SECRET", problems);
  let oidc: AppConfig["auth"]["providers"]["oidc"];
  const oidcParts = [env.AUTH_OIDC_ISSUER, env.AUTH_OIDC_ID, env.AUTH_OIDC_SECRET];
  if (oidcParts.every(Boolean)) {
    oidc = {
      issuer: env.AUTH_OIDC_ISSUER!,
      clientId: env.AUTH_OIDC_ID!,
      clientSecret: env.AUTH_OIDC_SECRET!,
      name: env.AUTH_OIDC_NAME,
    };
  } else if (oidcParts.some(Boolean)) {
    problems.push("AUTH_OIDC_ISSUER, AUTH_OIDC_ID and AUTH_OIDC_SECRET: set all three to enable single sign-on");
  }
  // The local store keeps tokens in this machine's data directory, under a key it made itself: fine for the
  // embedded database, but with a shared database a second instance could not read them, and a lost key file
  // would silently make every token unreadable. So with DATABASE_URL it must be chosen with a key of your own.
  const secretsBackend = env.SECRETS_BACKEND ?? (env.DATABASE_URL && !env.SECRETS_ENCRYPTION_KEY ? undefined : "local");
  if (!secretsBackend || (secretsBackend === "local" && env.DATABASE_URL && !env.SECRETS_ENCRYPTION_KEY)) {
    problems.push(
      "SECRETS_BACKEND: with DATABASE_URL (a database other instances may share), choose where tokens are kept: " +
        "SECRETS_BACKEND=aws, or the local store with a key of your own (SECRETS_ENCRYPTION_KEY, the same on every instance, " +
        "which also share DATA_DIR)",
    );
  }
  const anyProvider = Boolean(github || google || oidc);
  const demoMode = demoModeOf(env, anyProvider);
  // Demo mode has well-known passwords: only this machine may reach it.
  const host = env.HOST ?? (demoMode ? "127.0.0.1" : "0.0.0.0");
  const demoOffThisMachine = demoMode && !isLoopbackHost(host);
  if (demoOffThisMachine) {
    problems.push(
      `HOST: demo mode (${env.AUTH_DEMO ? "AUTH_DEMO=true" : "no identity provider configured"}) has accounts whose shared ` +
        `password is printed on the sign-in page, so it serves this machine only: HOST must be 127.0.0.1, ::1 or localhost, ` +
        `not ${host}. To serve other machines, configure an identity provider instead: ${PROVIDER_VARIABLES}.`,
    );
  } else if (!demoMode && !anyProvider && !someProviderVariable(env)) {
    problems.push(noProviderProblem(env));
  }
  // The session cookie is Secure wherever the app serves other machines, so their browsers only send it over HTTPS:
  // a public URL in plain HTTP would make sign-in impossible (or, with a non-Secure cookie, sessions readable).
  if (env.AUTH_URL && new URL(env.AUTH_URL).protocol === "http:" && !isLoopbackHost(new URL(env.AUTH_URL).hostname)) {
    problems.push(
      "AUTH_URL: must be https:// (sessions and tokens would cross the network in clear text); terminate TLS in front " +
        "of the app, with TRUST_PROXY=true if that proxy sets X-Forwarded-Proto",
    );
  }
  const allowedHosts = allowedHostsOf(env, host);
  if (allowedHosts.length === 0 && !demoOffThisMachine) {
    problems.push(
      `ALLOWED_HOSTS: with HOST=${host} the app serves other machines, and answers only requests addressed to a name it ` +
        "knows (against DNS rebinding): set AUTH_URL to its public URL (https://gitar.example.com), or list its names in " +
        "ALLOWED_HOSTS (comma-separated, e.g. gitar.example.com,gitar.internal:3000)",
    );
  }
  // A connect makes one round of Buildkite calls, then a secret write and its read-back; each client's own budget
  // must fit in the deadline's forward part (the last fifth is kept for undoing), or a merely slow change could
  // never finish.
  const neededMs = env.BUILDKITE_TIMEOUT_MS + 2 * env.SECRETS_TIMEOUT_MS;
  if (neededMs > env.OPERATION_DEADLINE_MS * 0.8) {
    problems.push(
      `OPERATION_DEADLINE_MS: ${env.OPERATION_DEADLINE_MS} ms leaves ${Math.floor(env.OPERATION_DEADLINE_MS * 0.8)} ms for a change's calls, ` +
        `less than one Buildkite call and two secret-store calls may take (BUILDKITE_TIMEOUT_MS + 2 × SECRETS_TIMEOUT_MS = ${neededMs} ms). ` +
        `Raise OPERATION_DEADLINE_MS to at least ${Math.ceil(neededMs / 0.8)}, or lower those timeouts.`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    nodeEnv: env.NODE_ENV,
    port: env.PORT,
    host,
    dataDir: path.resolve(env.DATA_DIR),
    databaseUrl: env.DATABASE_URL ?? env.GITAR_EMBEDDED_DATABASE_URL,
    databasePoolSize: env.DATABASE_POOL_SIZE,
    connectionLockWaitMs: env.CONNECTION_LOCK_WAIT_MS,
    jobsInApp: env.JOBS_IN_APP ?? true,
    viewCache: env.VIEW_CACHE ?? true,
    operationDeadlineMs: env.OPERATION_DEADLINE_MS,
    apiRateLimits: { perCaller: env.API_RATE_LIMIT_PER_KEY, perOrganization: env.API_RATE_LIMIT_PER_ORGANIZATION },
    trustProxy: env.TRUST_PROXY ?? false,
    allowedHosts,
    secrets: {
      backend: secretsBackend!,
      prefix: env.SECRETS_PREFIX,
      kmsKeyId: env.SECRETS_KMS_KEY_ID,
      encryptionKey: env.SECRETS_ENCRYPTION_KEY ? Buffer.from(env.SECRETS_ENCRYPTION_KEY, "base64") : undefined,
      timeoutMs: env.SECRETS_TIMEOUT_MS,
      recoveryDays: env.SECRETS_RECOVERY_DAYS,
    },
    buildkite: {
      apiUrl: env.BUILDKITE_API_URL,
      connectTimeoutMs: env.BUILDKITE_CONNECT_TIMEOUT_MS,
      timeoutMs: env.BUILDKITE_TIMEOUT_MS,
      verifyIntervalMinutes: env.BUILDKITE_VERIFY_INTERVAL_MINUTES,
      verifyConcurrency: env.BUILDKITE_VERIFY_CONCURRENCY,
    },
    notifications: {
      smtpUrl: env.SMTP_URL,
      mailFrom: env.SMTP_FROM ?? "Gitar <notifications@gitar.invalid>",
      allowPrivateNetworks: env.WEBHOOKS_ALLOW_PRIVATE_NETWORKS ?? false,
      appUrl: (env.AUTH_URL ?? `http://${isLoopbackHost(host) || host === "0.0.0.0" ? "localhost" : host}:${env.PORT}`).replace(/\/+$/, ""),
    },
    auth: {
      secret: env.AUTH_SECRET,
      url: env.AUTH_URL,
      secureCookies: env.AUTH_URL ? new URL(env.AUTH_URL).protocol === "https:" : isLoopbackHost(host) ? undefined : true,
      demoMode,
      providers: { github, google, oidc },
    },
  };
}

let cached: AppConfig | undefined;

/** The app's configuration, parsed from process.env on first use. */
export function getConfig(): AppConfig {
  cached ??= parseConfig();
  return cached;
}
