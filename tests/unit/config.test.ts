import { randomBytes } from "node:crypto";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "@/lib/config";

const GITHUB = { AUTH_GITHUB_ID: "Iv1.0123456789abcdef", AUTH_GITHUB_SECRET: "github-client-secret" };
const OIDC = { AUTH_OIDC_ISSUER: "https://login.example.test", AUTH_OIDC_ID: "gitar", AUTH_OIDC_SECRET: "oidc-client-secret" };
/** A deployment that serves other machines: a provider, and the public URL it is reached at. */
const DEPLOYED = { ...GITHUB, AUTH_URL: "https://gitar.example.test" };
const SHARED_DATABASE = { DATABASE_URL: "postgresql://gitar@db.internal:5432/gitar", SECRETS_BACKEND: "aws" };

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

  it("is the same under `npm start` with the embedded database, whose URL is not DATABASE_URL", () => {
    const embedded = "postgresql://gitar@127.0.0.1:54329/gitar";
    const config = parseConfig({ GITAR_EMBEDDED_DATABASE_URL: embedded });
    expect(config).toMatchObject({ host: "127.0.0.1", databaseUrl: embedded, secrets: { backend: "local" }, auth: { demoMode: true } });
  });

  it("refuses a deadline the clients' own budgets do not fit in, and says what would", () => {
    expect(() => parseConfig({ OPERATION_DEADLINE_MS: "10000" })).toThrow(/OPERATION_DEADLINE_MS: .*Raise OPERATION_DEADLINE_MS to at least 22500/);
    expect(parseConfig({ OPERATION_DEADLINE_MS: "10000", BUILDKITE_TIMEOUT_MS: "3000", SECRETS_TIMEOUT_MS: "2000" }).operationDeadlineMs).toBe(10_000);
  });

  it("reads the notification settings: no email and the SSRF guard on by default", () => {
    expect(parseConfig({}).notifications).toMatchObject({ smtpUrl: undefined, allowPrivateNetworks: false, appUrl: "http://localhost:3000" });
    expect(parseConfig({ SMTP_URL: "smtps://mailer:pw@smtp.example.test:465", WEBHOOKS_ALLOW_PRIVATE_NETWORKS: "true", ...DEPLOYED }).notifications).toMatchObject({
      smtpUrl: "smtps://mailer:pw@smtp.example.test:465",
      allowPrivateNetworks: true,
      appUrl: "https://gitar.example.test",
    });
    const problems = problemsOf({ SMTP_URL: "https://mail.example.test", WEBHOOKS_ALLOW_PRIVATE_NETWORKS: "yes" });
    expect(problems).toEqual(
      expect.arrayContaining([expect.stringMatching(/^SMTP_URL: must be an smtp:\/\/ or smtps:\/\/ URL/), expect.stringMatching(/^WEBHOOKS_ALLOW_PRIVATE_NETWORKS:/)]),
    );
  });

  it("treats blank values as unset", () => {
    const config = parseConfig({ HOST: "  ", AUTH_GITHUB_ID: "", AUTH_GITHUB_SECRET: " ", SECRETS_KMS_KEY_ID: "" });
    expect(config.host).toBe("127.0.0.1");
    expect(config.auth.demoMode).toBe(true);
    expect(config.secrets.kmsKeyId).toBeUndefined();
  });

  it("refuses http:// for Buildkite except on this machine: the token would travel in clear text", () => {
    expect(() => parseConfig({ BUILDKITE_API_URL: "http://buildkite.internal.example" })).toThrow(/BUILDKITE_API_URL: must be https:\/\//);
    for (const url of ["http://127.0.0.1:4010", "http://localhost:4010", "http://[::1]:4010", "https://buildkite.internal.example"]) {
      expect(parseConfig({ BUILDKITE_API_URL: url }).buildkite.apiUrl).toBe(url);
    }
  });

  it("with a shared database, refuses the local secret store unless it is given its own key", () => {
    const databaseUrl = "postgresql://gitar@db.internal:5432/gitar";
    expect(() => parseConfig({ ...DEPLOYED, DATABASE_URL: databaseUrl })).toThrow(/SECRETS_BACKEND: with DATABASE_URL/);
    expect(() => parseConfig({ ...DEPLOYED, DATABASE_URL: databaseUrl, SECRETS_BACKEND: "local" })).toThrow(/SECRETS_ENCRYPTION_KEY/);
    const key = randomBytes(32).toString("base64");
    expect(parseConfig({ ...DEPLOYED, DATABASE_URL: databaseUrl, SECRETS_ENCRYPTION_KEY: key }).secrets.backend).toBe("local");
    expect(parseConfig({ ...DEPLOYED, DATABASE_URL: databaseUrl, SECRETS_BACKEND: "aws" }).secrets.backend).toBe("aws");
    // The embedded database is this machine's alone: the local store's generated key is fine there.
    expect(parseConfig({}).secrets.backend).toBe("local");
  });

  it("treats blank numbers as unset too, not as 0", () => {
    const config = parseConfig({ PORT: "", DATABASE_POOL_SIZE: " ", SECRETS_RECOVERY_DAYS: "", BUILDKITE_VERIFY_INTERVAL_MINUTES: "", CONNECTION_LOCK_WAIT_MS: "" });
    expect(config.port).toBe(3000);
    expect(config.databasePoolSize).toBe(10);
    expect(config.secrets.recoveryDays).toBe(7);
    expect(config.buildkite.verifyIntervalMinutes).toBe(360);
    expect(config.connectionLockWaitMs).toBe(5000);
  });

  it("turns demo mode off and listens on every interface once a provider is fully configured", () => {
    const config = parseConfig(DEPLOYED);
    expect(config.auth.demoMode).toBe(false);
    expect(config.host).toBe("0.0.0.0");
    expect(config.auth.providers.github).toEqual({ clientId: GITHUB.AUTH_GITHUB_ID, clientSecret: GITHUB.AUTH_GITHUB_SECRET });
  });

  it("configures single sign-on from all three OIDC variables, with a default button name", () => {
    const config = parseConfig({ ...OIDC, AUTH_URL: "https://gitar.example.test" });
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

  it("lets HOST override the default: another loopback address in demo mode, any address with a provider", () => {
    expect(parseConfig({ HOST: "127.0.0.2" }).host).toBe("127.0.0.2");
    expect(parseConfig({ HOST: "::1" }).host).toBe("::1");
    expect(parseConfig({ HOST: "localhost" }).host).toBe("localhost");
    expect(parseConfig({ ...DEPLOYED, HOST: "10.0.0.5" }).host).toBe("10.0.0.5");
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
      ...DEPLOYED,
    });
    expect(config.port).toBe(8080);
    expect(config.secrets.backend).toBe("aws");
    expect(config.secrets.prefix).toBe("teams/gitar");
    expect(config.secrets.encryptionKey?.equals(key)).toBe(true);
    expect(config.buildkite.apiUrl).toBe("http://127.0.0.1:4010");
    expect(config.databaseUrl).toBe("postgres://app@db.internal:5432/gitar");
  });

  describe("connection locks, jobs, secret recovery and scheduled checks", () => {
    it("defaults to a 5 s lock wait, jobs in the app, a 7-day recovery window and a check every 6 hours by 16 workers", () => {
      expect(parseConfig({})).toMatchObject({
        connectionLockWaitMs: 5_000,
        jobsInApp: true,
        secrets: { recoveryDays: 7 },
        buildkite: { verifyIntervalMinutes: 360, verifyConcurrency: 16 },
      });
    });

    it("parses the values it is given, bounds included", () => {
      const config = parseConfig({
        CONNECTION_LOCK_WAIT_MS: "250",
        JOBS_IN_APP: "false",
        SECRETS_RECOVERY_DAYS: "30",
        BUILDKITE_VERIFY_INTERVAL_MINUTES: "10080",
        BUILDKITE_VERIFY_CONCURRENCY: "200",
      });
      expect(config.connectionLockWaitMs).toBe(250);
      expect(config.jobsInApp).toBe(false);
      expect(config.secrets.recoveryDays).toBe(30);
      expect(config.buildkite.verifyIntervalMinutes).toBe(10_080);
      expect(config.buildkite.verifyConcurrency).toBe(200);

      const low = parseConfig({
        CONNECTION_LOCK_WAIT_MS: "50",
        SECRETS_RECOVERY_DAYS: "7",
        BUILDKITE_VERIFY_INTERVAL_MINUTES: "5",
        BUILDKITE_VERIFY_CONCURRENCY: "1",
      });
      expect(low.connectionLockWaitMs).toBe(50);
      expect(low.secrets.recoveryDays).toBe(7);
      expect(low.buildkite.verifyIntervalMinutes).toBe(5);
      expect(low.buildkite.verifyConcurrency).toBe(1);
    });

    it.each([
      { value: "true", expected: true },
      { value: "1", expected: true },
      { value: "false", expected: false },
      { value: "0", expected: false },
      { value: "", expected: true },
    ])("reads JOBS_IN_APP=$value as $expected", ({ value, expected }) => {
      expect(parseConfig({ JOBS_IN_APP: value }).jobsInApp).toBe(expected);
    });

    it.each([
      { name: "CONNECTION_LOCK_WAIT_MS", value: "10", says: /50/ },
      { name: "CONNECTION_LOCK_WAIT_MS", value: "120001", says: /120000/ },
      { name: "CONNECTION_LOCK_WAIT_MS", value: "soon", says: /number/i },
      { name: "JOBS_IN_APP", value: "yes", says: /true/ },
      { name: "SECRETS_RECOVERY_DAYS", value: "6", says: /at least 7/ },
      { name: "SECRETS_RECOVERY_DAYS", value: "31", says: /at most 30/ },
      { name: "SECRETS_RECOVERY_DAYS", value: "7.5", says: /whole number of days from 7 to 30/ },
      { name: "SECRETS_RECOVERY_DAYS", value: "a week", says: /whole number of days from 7 to 30/ },
      { name: "BUILDKITE_VERIFY_INTERVAL_MINUTES", value: "4", says: /at least 5 minutes/ },
      { name: "BUILDKITE_VERIFY_INTERVAL_MINUTES", value: "10081", says: /at most 10080 minutes/ },
      { name: "BUILDKITE_VERIFY_INTERVAL_MINUTES", value: "1.5", says: /whole number of minutes from 5 to 10080/ },
      { name: "BUILDKITE_VERIFY_INTERVAL_MINUTES", value: "hourly", says: /whole number of minutes from 5 to 10080/ },
      { name: "BUILDKITE_VERIFY_CONCURRENCY", value: "0", says: /1/ },
      { name: "BUILDKITE_VERIFY_CONCURRENCY", value: "201", says: /200/ },
      { name: "BUILDKITE_VERIFY_CONCURRENCY", value: "2.5", says: /\bint\b/ },
    ])("refuses $name=$value, naming the variable and its bounds", ({ name, value, says }) => {
      const problems = problemsOf({ [name]: value });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(new RegExp(`^${name}: `));
      expect(problems[0]).toMatch(says);
    });
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
  describe("demo mode only where it cannot meet real data or real people", () => {
    const PROVIDER_NAMES = ["AUTH_GITHUB_ID", "AUTH_GITHUB_SECRET", "AUTH_GOOGLE_ID", "AUTH_GOOGLE_SECRET", "AUTH_OIDC_ISSUER", "AUTH_OIDC_ID", "AUTH_OIDC_SECRET"];
    const namesEveryProviderVariable = (problem: string) => {
      for (const name of ["AUTH_GITHUB_ID", "AUTH_GOOGLE_ID", "AUTH_OIDC_ISSUER", "AUTH_OIDC_ID", "AUTH_OIDC_SECRET"]) expect(problem).toContain(name);
      expect(problem).toMatch(/AUTH_GITHUB_SECRET|AUTH_GITHUB_ID\/SECRET/);
      expect(problem).toMatch(/AUTH_GOOGLE_SECRET|AUTH_GOOGLE_ID\/SECRET/);
    };

    it("is on by default with the embedded database (no DATABASE_URL) and no provider, on this machine", () => {
      expect(parseConfig({})).toMatchObject({ host: "127.0.0.1", auth: { demoMode: true } });
    });

    it("refuses to start with a real DATABASE_URL and no provider, naming the provider variables to set", () => {
      // (Serving other machines, it also needs its public name: a problem of its own.)
      for (const env of [SHARED_DATABASE, { ...SHARED_DATABASE, AUTH_URL: "https://gitar.example.test" }, { ...SHARED_DATABASE, HOST: "127.0.0.1" }]) {
        const problems = problemsOf(env).filter((problem) => !problem.startsWith("ALLOWED_HOSTS: "));
        expect(problems).toHaveLength(1);
        namesEveryProviderVariable(problems[0]!);
        expect(problems[0]).toMatch(/AUTH_DEMO=true/);
        expect(PROVIDER_NAMES.some((name) => problems[0]!.startsWith(name))).toBe(true);
      }
    });

    it("refuses a non-loopback HOST in demo mode, whether demo mode is implied or asked for", () => {
      for (const env of [{ HOST: "0.0.0.0" }, { HOST: "10.0.0.5" }, { HOST: "::" }, { HOST: "gitar.example.test" }, { ...SHARED_DATABASE, AUTH_DEMO: "true", HOST: "0.0.0.0" }]) {
        const problems = problemsOf(env);
        expect(problems).toHaveLength(1);
        expect(problems[0]).toMatch(/^HOST: demo mode/);
        namesEveryProviderVariable(problems[0]!);
      }
      // A provider beside AUTH_DEMO=true does not make the demo accounts safe to serve to other machines.
      expect(problemsOf({ ...DEPLOYED, AUTH_DEMO: "true", HOST: "0.0.0.0" })[0]).toMatch(/^HOST: demo mode \(AUTH_DEMO=true\)/);
    });

    it("allows AUTH_DEMO=true with a real DATABASE_URL on a loopback HOST (how the browser tests run)", () => {
      for (const host of [undefined, "127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost", "LOCALHOST"]) {
        const config = parseConfig({ ...SHARED_DATABASE, AUTH_DEMO: "true", HOST: host });
        expect(config.auth.demoMode).toBe(true);
        expect(config.host).toBe(host ?? "127.0.0.1");
      }
    });

    it("refuses AUTH_DEMO=false with no provider: nobody could sign in", () => {
      for (const env of [{ AUTH_DEMO: "false" }, { ...SHARED_DATABASE, AUTH_DEMO: "false" }]) {
        const problems = problemsOf({ ...env, AUTH_URL: "https://gitar.example.test" });
        expect(problems).toHaveLength(1);
        namesEveryProviderVariable(problems[0]!);
        expect(problems[0]).toContain("AUTH_DEMO=false");
      }
    });

    it("is off with a provider and a real database, and then serves any HOST", () => {
      expect(parseConfig({ ...SHARED_DATABASE, ...DEPLOYED })).toMatchObject({ host: "0.0.0.0", auth: { demoMode: false } });
      expect(parseConfig({ ...DEPLOYED })).toMatchObject({ auth: { demoMode: false } });
    });
  });

  describe("AUTH_URL, ALLOWED_HOSTS and TRUST_PROXY", () => {
    it("answers only this machine's names on a loopback HOST, on any port", () => {
      expect(parseConfig({}).allowedHosts).toEqual([{ hostname: "localhost" }, { hostname: "127.0.0.1" }, { hostname: "::1" }]);
      expect(parseConfig({ HOST: "127.0.0.2" }).allowedHosts).toContainEqual({ hostname: "127.0.0.2" });
      expect(parseConfig({ HOST: "[::1]" }).allowedHosts).toEqual([{ hostname: "localhost" }, { hostname: "127.0.0.1" }, { hostname: "::1" }]);
    });

    it("adds AUTH_URL's host, with its port only when it names one", () => {
      expect(parseConfig(DEPLOYED).allowedHosts).toEqual([{ hostname: "gitar.example.test" }]);
      expect(parseConfig({ ...GITHUB, AUTH_URL: "https://Gitar.Internal:8080/" }).allowedHosts).toEqual([{ hostname: "gitar.internal", port: "8080" }]);
      expect(parseConfig({ ...GITHUB, AUTH_URL: "https://[2001:db8::1]:8443" }).allowedHosts).toEqual([{ hostname: "2001:db8::1", port: "8443" }]);
      expect(parseConfig({ AUTH_URL: "http://127.0.0.1:3000" }).allowedHosts[0]).toEqual({ hostname: "127.0.0.1", port: "3000" });
      expect(parseConfig({ ...DEPLOYED }).auth.url).toBe("https://gitar.example.test");
    });

    it("checks NEXT_SERVER_ACTIONS_ENCRYPTION_KEY, which Next reads at build time", () => {
      expect(() => parseConfig({ NEXT_SERVER_ACTIONS_ENCRYPTION_KEY: "short" })).toThrow(/NEXT_SERVER_ACTIONS_ENCRYPTION_KEY: must be 32 random bytes/);
      expect(() => parseConfig({ NEXT_SERVER_ACTIONS_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString("base64") })).not.toThrow();
    });

    it("refuses a plain-HTTP AUTH_URL beyond this machine: the session cookie must only travel over HTTPS", () => {
      expect(() => parseConfig({ ...GITHUB, AUTH_URL: "http://gitar.internal:8080/" })).toThrow(/AUTH_URL: must be https:\/\//);
      expect(parseConfig({ AUTH_URL: "http://localhost:3000" }).auth.url).toBe("http://localhost:3000");
    });

    it("makes session cookies Secure with an https AUTH_URL and whenever other machines are served", () => {
      expect(parseConfig(DEPLOYED).auth.secureCookies).toBe(true);
      expect(parseConfig({ ...GITHUB, ALLOWED_HOSTS: "gitar.internal" }).auth.secureCookies).toBe(true);
      expect(parseConfig({ AUTH_URL: "http://127.0.0.1:3000" }).auth.secureCookies).toBe(false);
      // This machine alone, no public URL: Auth.js decides from the request (http://localhost in the demo).
      expect(parseConfig({}).auth.secureCookies).toBeUndefined();
    });

    it("adds each ALLOWED_HOSTS entry", () => {
      const config = parseConfig({ ...GITHUB, ALLOWED_HOSTS: " gitar.example.test, gitar.internal:3000 ,10.0.0.5,[fd00::5]:3000," });
      expect(config.allowedHosts).toEqual([
        { hostname: "gitar.example.test" },
        { hostname: "gitar.internal", port: "3000" },
        { hostname: "10.0.0.5" },
        { hostname: "fd00::5", port: "3000" },
      ]);
    });

    it("refuses a HOST that serves other machines when no name is known, naming AUTH_URL and ALLOWED_HOSTS", () => {
      const problems = problemsOf(GITHUB);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^ALLOWED_HOSTS: /);
      expect(problems[0]).toContain("AUTH_URL");
      expect(parseConfig({ ...GITHUB, ALLOWED_HOSTS: "gitar.example.test" }).host).toBe("0.0.0.0");
    });

    it.each([
      { name: "ALLOWED_HOSTS", value: "https://gitar.example.test" },
      { name: "ALLOWED_HOSTS", value: "gitar.example.test/path" },
      { name: "ALLOWED_HOSTS", value: "gitar.example.test:99999" },
      { name: "ALLOWED_HOSTS", value: "*.example.test" },
      { name: "ALLOWED_HOSTS", value: "good.example.test,bad host" },
      { name: "AUTH_URL", value: "gitar.example.test" },
      { name: "AUTH_URL", value: "ftp://gitar.example.test" },
      { name: "TRUST_PROXY", value: "yes" },
    ])("refuses $name=$value, naming it", ({ name, value }) => {
      const problems = problemsOf({ [name]: value });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(new RegExp(`^${name}: .+`));
    });

    it("trusts X-Forwarded-* only when TRUST_PROXY says a proxy sets them", () => {
      expect(parseConfig({}).trustProxy).toBe(false);
      expect(parseConfig({ TRUST_PROXY: "" }).trustProxy).toBe(false);
      expect(parseConfig({ TRUST_PROXY: "false" }).trustProxy).toBe(false);
      expect(parseConfig({ TRUST_PROXY: "true" }).trustProxy).toBe(true);
      expect(parseConfig({ TRUST_PROXY: "1" }).trustProxy).toBe(true);
    });
  });
});
