import { randomBytes } from "node:crypto";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "@/lib/config";

const GITHUB = { AUTH_GITHUB_ID: "Iv1.0123456789abcdef", AUTH_GITHUB_SECRET: "github-client-secret" };
const OIDC = { AUTH_OIDC_ISSUER: "https://login.example.test", AUTH_OIDC_ID: "gitar", AUTH_OIDC_SECRET: "oidc-client-secret" };

/** parseConfig must throw a ConfigError; returns its problems. */
function problemsOf(env: Record<string, string | undefined>): string[] {
  let thrown: unknown;
  try {
    parseConfig(env);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ConfigError);
  return (thrown as ConfigError).problems;
}

describe("parseConfig", () => {
  it("runs with an empty environment: local secrets, Buildkite's API, demo mode on this machine only", () => {
    const config = parseConfig({});
    expect(config).toMatchObject({
      nodeEnv: "development",
      port: 3000,
      host: "127.0.0.1",
      databaseUrl: undefined,
      databasePoolSize: 10,
      secrets: { backend: "local", prefix: "gitar", kmsKeyId: undefined, encryptionKey: undefined, timeoutMs: 5_000 },
      buildkite: { apiUrl: "https://api.buildkite.com", connectTimeoutMs: 3_000, timeoutMs: 8_000 },
      auth: { demoMode: true, providers: { github: undefined, google: undefined, oidc: undefined } },
    });
    expect(path.isAbsolute(config.dataDir)).toBe(true);
    expect(path.basename(config.dataDir)).toBe(".data");
  });

  it("treats blank values as unset", () => {
    const config = parseConfig({ HOST: "  ", AUTH_GITHUB_ID: "", AUTH_GITHUB_SECRET: " ", SECRETS_KMS_KEY_ID: "" });
    expect(config.host).toBe("127.0.0.1");
    expect(config.auth.demoMode).toBe(true);
    expect(config.secrets.kmsKeyId).toBeUndefined();
  });

  it("turns demo mode off and listens on every interface once a provider is fully configured", () => {
    const config = parseConfig(GITHUB);
    expect(config.auth.demoMode).toBe(false);
    expect(config.host).toBe("0.0.0.0");
    expect(config.auth.providers.github).toEqual({ clientId: GITHUB.AUTH_GITHUB_ID, clientSecret: GITHUB.AUTH_GITHUB_SECRET });
  });

  it("configures single sign-on from all three OIDC variables, with a default button name", () => {
    const config = parseConfig(OIDC);
    expect(config.auth.demoMode).toBe(false);
    expect(config.auth.providers.oidc).toEqual({
      issuer: OIDC.AUTH_OIDC_ISSUER,
      clientId: OIDC.AUTH_OIDC_ID,
      clientSecret: OIDC.AUTH_OIDC_SECRET,
      name: "Single sign-on",
    });
  });

  it("keeps demo mode on beside a provider when AUTH_DEMO=true, and then stays on this machine", () => {
    const config = parseConfig({ ...GITHUB, AUTH_DEMO: "true" });
    expect(config.auth.demoMode).toBe(true);
    expect(config.host).toBe("127.0.0.1");
    expect(config.auth.providers.github).toBeDefined();
  });

  it("turns demo mode off with AUTH_DEMO=false even without a provider", () => {
    expect(parseConfig({ AUTH_DEMO: "false" })).toMatchObject({ host: "0.0.0.0", auth: { demoMode: false } });
  });

  it("lets HOST override the default in either mode", () => {
    expect(parseConfig({ HOST: "0.0.0.0" }).host).toBe("0.0.0.0");
    expect(parseConfig({ ...GITHUB, HOST: "10.0.0.5" }).host).toBe("10.0.0.5");
  });

  it("parses the values it is given", () => {
    const key = randomBytes(32);
    const config = parseConfig({
      PORT: "8080",
      SECRETS_BACKEND: "aws",
      SECRETS_PREFIX: "/teams/gitar/",
      SECRETS_ENCRYPTION_KEY: key.toString("base64"),
      BUILDKITE_API_URL: "http://127.0.0.1:4010/",
      DATABASE_URL: "postgres://app@db.internal:5432/gitar",
    });
    expect(config.port).toBe(8080);
    expect(config.secrets.backend).toBe("aws");
    expect(config.secrets.prefix).toBe("teams/gitar");
    expect(config.secrets.encryptionKey?.equals(key)).toBe(true);
    expect(config.buildkite.apiUrl).toBe("http://127.0.0.1:4010");
    expect(config.databaseUrl).toBe("postgres://app@db.internal:5432/gitar");
  });

  describe("a half-configured provider is an error naming what is missing", () => {
    it.each([
      { env: { AUTH_GITHUB_ID: GITHUB.AUTH_GITHUB_ID }, names: "AUTH_GITHUB_SECRET" },
      { env: { AUTH_GITHUB_SECRET: GITHUB.AUTH_GITHUB_SECRET }, names: "AUTH_GITHUB_ID" },
      { env: { AUTH_GOOGLE_ID: "google-id.apps.googleusercontent.com" }, names: "AUTH_GOOGLE_SECRET" },
      { env: { AUTH_GOOGLE_SECRET: "google-secret" }, names: "AUTH_GOOGLE_ID" },
    ])("$names", ({ env, names }) => {
      const problems = problemsOf(env);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(new RegExp(`^${names}: `));
    });

    it.each([
      { AUTH_OIDC_ISSUER: OIDC.AUTH_OIDC_ISSUER },
      { AUTH_OIDC_ID: OIDC.AUTH_OIDC_ID, AUTH_OIDC_SECRET: OIDC.AUTH_OIDC_SECRET },
    ])("OIDC with only some of its three variables (%o)", (env) => {
      const problems = problemsOf(env);
      expect(problems).toHaveLength(1);
      for (const name of ["AUTH_OIDC_ISSUER", "AUTH_OIDC_ID", "AUTH_OIDC_SECRET"]) expect(problems[0]).toContain(name);
    });

    it("does not fall back to demo mode silently", () => {
      expect(() => parseConfig({ AUTH_GITHUB_ID: GITHUB.AUTH_GITHUB_ID })).toThrow(ConfigError);
    });
  });

  describe("a bad value is an error naming its variable", () => {
    it.each([
      { name: "PORT", value: "abc" },
      { name: "PORT", value: "70000" },
      { name: "SECRETS_BACKEND", value: "vault" },
      { name: "BUILDKITE_API_URL", value: "ftp://x" },
      { name: "BUILDKITE_API_URL", value: "not a url" },
      { name: "SECRETS_ENCRYPTION_KEY", value: randomBytes(16).toString("base64") },
      { name: "SECRETS_ENCRYPTION_KEY", value: "not base64 at all!" },
      { name: "DATABASE_URL", value: "mysql://root@127.0.0.1:3306/gitar" },
      { name: "SECRETS_PREFIX", value: "gitar secrets" },
      { name: "AUTH_OIDC_ISSUER", value: "login.example.test" },
      { name: "AUTH_DEMO", value: "yes" },
      { name: "BUILDKITE_TIMEOUT_MS", value: "10" },
    ])("$name=$value", ({ name, value }) => {
      let thrown: unknown;
      try {
        parseConfig({ [name]: value });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ConfigError);
      const error = thrown as ConfigError;
      expect(error.name).toBe("ConfigError");
      expect(error.problems).toHaveLength(1);
      expect(error.problems[0]).toMatch(new RegExp(`^${name}: .+`));
      expect(error.message).toContain(`  - ${name}: `);
    });

    it("names every bad variable at once", () => {
      const problems = problemsOf({ PORT: "abc", SECRETS_BACKEND: "vault", DATABASE_URL: "mysql://x" });
      expect(problems.map((problem) => problem.split(":")[0]).sort()).toEqual(["DATABASE_URL", "PORT", "SECRETS_BACKEND"]);
    });

    it("never repeats a rejected secret value in the message", () => {
      const key = randomBytes(16).toString("base64");
      const error = (() => {
        try {
          parseConfig({ SECRETS_ENCRYPTION_KEY: key });
        } catch (thrown) {
          return thrown as ConfigError;
        }
        throw new Error("expected a ConfigError");
      })();
      expect(error.message).not.toContain(key);
    });
  });
});
