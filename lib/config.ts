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

const milliseconds = (fallback: number) => z.coerce.number().int().min(50).max(120_000).default(fallback);

const base64Key = z
  .string()
  .trim()
  .refine((value) => Buffer.from(value, "base64").length === 32 && /^[A-Za-z0-9+/]+={0,2}$/.test(value), {
    message: "must be 32 random bytes in base64 (e.g. `openssl rand -base64 32`)",
  });

const environmentSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  PORT: z.coerce.number().int().min(1).max(65_535).default(3000),
  HOST: optionalText,
  DATA_DIR: z.string().trim().min(1).default(".data"),
  DATABASE_URL: optionalText.pipe(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, { message: "must be a postgres:// or postgresql:// URL" })
      .optional(),
  ),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),

  SECRETS_BACKEND: z.enum(["local", "aws"]).default("local"),
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
  SECRETS_TIMEOUT_MS: milliseconds(5_000),

  BUILDKITE_API_URL: z
    .url({ protocol: /^https?$/, message: "must be an http(s) URL such as https://api.buildkite.com" })
    .transform((value) => value.replace(/\/+$/, ""))
    .default("https://api.buildkite.com"),
  BUILDKITE_CONNECT_TIMEOUT_MS: milliseconds(3_000),
  BUILDKITE_TIMEOUT_MS: milliseconds(8_000),

  AUTH_SECRET: optionalText,
  AUTH_DEMO: booleanFlag,
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
  secrets: {
    backend: "local" | "aws";
    prefix: string;
    kmsKeyId: string | undefined;
    encryptionKey: Buffer | undefined;
    timeoutMs: number;
  };
  buildkite: {
    apiUrl: string;
    connectTimeoutMs: number;
    timeoutMs: number;
  };
  auth: {
    secret: string | undefined;
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
  if (problems.length > 0) throw new ConfigError(problems);

  const anyProvider = Boolean(github || google || oidc);
  const demoMode = env.AUTH_DEMO ?? !anyProvider;
  return {
    nodeEnv: env.NODE_ENV,
    port: env.PORT,
    // Demo mode has well-known passwords: unless told otherwise, only this machine may reach it.
    host: env.HOST ?? (demoMode ? "127.0.0.1" : "0.0.0.0"),
    dataDir: path.resolve(env.DATA_DIR),
    databaseUrl: env.DATABASE_URL,
    databasePoolSize: env.DATABASE_POOL_SIZE,
    secrets: {
      backend: env.SECRETS_BACKEND,
      prefix: env.SECRETS_PREFIX,
      kmsKeyId: env.SECRETS_KMS_KEY_ID,
      encryptionKey: env.SECRETS_ENCRYPTION_KEY ? Buffer.from(env.SECRETS_ENCRYPTION_KEY, "base64") : undefined,
      timeoutMs: env.SECRETS_TIMEOUT_MS,
    },
    buildkite: {
      apiUrl: env.BUILDKITE_API_URL,
      connectTimeoutMs: env.BUILDKITE_CONNECT_TIMEOUT_MS,
      timeoutMs: env.BUILDKITE_TIMEOUT_MS,
    },
    auth: {
      secret: env.AUTH_SECRET,
      // Demo accounts exist only while no real identity provider is configured, unless asked for explicitly.
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
