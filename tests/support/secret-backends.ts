// The two secret backends, each with a window on what it really keeps, so one test can run against both and check
// the store itself afterwards (not just what our code says it did).
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, expect, vi } from "vitest";
import { createAwsSecretStore } from "@/lib/secrets/aws";
import { createLocalSecretStore } from "@/lib/secrets/local";
import { secretName, type SecretStore, type SecretStoreErrorCode } from "@/lib/secrets/store";
import { STAND_IN_CREDENTIALS, type Fault, type SecretsManagerStandIn } from "./secrets-manager-stand-in";

export const AWS_PREFIX = "gitar-test";
export const LOCAL_PREFIX = "gitar";
export const KMS_KEY_ID = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
export const SECRETS_TIMEOUT_MS = 1500;

export type SecretState = {
  /** The version the backend serves as current (AWSCURRENT / the file's `current`), if the secret exists. */
  current: string | undefined;
  /** aws: scheduled for deletion; local: never (a removed secret's file is gone). */
  deleted: boolean;
  /** Every version id the backend can still hand out by id, with its labels (local: "current" / "previous"). */
  versions: Array<{ id: string; stages: string[] }>;
};

export type WriteFault = { label: string; reason: SecretStoreErrorCode; arm(): Promise<SecretStore>; mayLandLate?: boolean };

export type SecretBackend = {
  name: "local" | "aws";
  setUp(): Promise<void>;
  tearDown(): Promise<void>;
  store(): SecretStore;
  expectedRef(organizationId: string): string | RegExp;
  /** null when the backend holds nothing at all for the organisation. */
  state(organizationId: string): Promise<SecretState | null>;
  /** How many separate secrets (aws: names in the stand-in; local: files) the organisation has. */
  secretCount(organizationId: string): Promise<number>;
  /** Asserts nothing was written for the organisation. */
  expectNothingWritten(organizationId: string): Promise<void>;
  /** Ways to make the next secret write fail; `previous` says whether a connection already exists. */
  writeFaults(previous: boolean): WriteFault[];
  /** What another process needs to open the same store (with process.env, which holds the AWS variables). */
  processSettings(): { backend: "local"; dataDir: string; prefix: string; key: string } | { backend: "aws"; prefix: string; kmsKeyId: string };
  /** aws only: make the read-back after a successful write fail. */
  breakReadBack?: () => { reason: SecretStoreErrorCode; repair(): void };
};

export function localBackend(): SecretBackend {
  let dataDir: string;
  let encryptionKey: Buffer;
  let store: SecretStore;
  const secretsDir = () => path.join(dataDir, "secrets");
  const fileFor = (organizationId: string) => path.join(secretsDir(), `${secretName(LOCAL_PREFIX, organizationId)}.json`);
  const orgDir = (organizationId: string) => path.dirname(fileFor(organizationId));

  async function filesOf(organizationId: string): Promise<string[]> {
    try {
      return await readdir(orgDir(organizationId));
    } catch (error) {
      if ((error as { code?: string }).code === "ENOENT") return [];
      throw error;
    }
  }

  return {
    name: "local",
    async setUp() {
      dataDir = await mkdtemp(path.join(tmpdir(), "secret-backend-"));
      encryptionKey = randomBytes(32);
      store = createLocalSecretStore({ dataDir, prefix: LOCAL_PREFIX, encryptionKey });
    },
    async tearDown() {
      await rm(dataDir, { recursive: true, force: true });
    },
    store: () => store,
    processSettings: () => ({ backend: "local", dataDir, prefix: LOCAL_PREFIX, key: encryptionKey.toString("base64") }),
    expectedRef: (organizationId) => `local:${LOCAL_PREFIX}/${organizationId}/buildkite-api-token`,
    async state(organizationId) {
      let text: string;
      try {
        text = await readFile(fileFor(organizationId), "utf8");
      } catch (error) {
        if ((error as { code?: string }).code === "ENOENT") return null;
        throw error;
      }
      const stored = JSON.parse(text) as { current: { id: string }; previous: { id: string } | null };
      return {
        current: stored.current.id,
        deleted: false,
        versions: [
          { id: stored.current.id, stages: ["current"] },
          ...(stored.previous ? [{ id: stored.previous.id, stages: ["previous"] }] : []),
        ],
      };
    },
    secretCount: async (organizationId) => (await filesOf(organizationId)).filter((file) => file.endsWith(".json")).length,
    async expectNothingWritten(organizationId) {
      expect(await filesOf(organizationId)).toEqual([]);
    },
    writeFaults: () => [
      {
        label: "data directory is a regular file",
        reason: "misconfigured",
        async arm() {
          const notADirectory = path.join(dataDir, "not-a-directory");
          await writeFile(notADirectory, "this is a file\n");
          return createLocalSecretStore({ dataDir: notADirectory, prefix: LOCAL_PREFIX, encryptionKey });
        },
      },
    ],
  };
}

/** Sets exactly these AWS variables, with nothing from the machine (profiles, files, instance metadata) leaking in. */
export function stubAwsEnvironment(values: Record<string, string | undefined>) {
  for (const name of Object.keys(process.env)) if (name.startsWith("AWS_")) vi.stubEnv(name, undefined);
  vi.stubEnv("AWS_CONFIG_FILE", "/nonexistent/aws-config");
  vi.stubEnv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials");
  vi.stubEnv("AWS_EC2_METADATA_DISABLED", "true");
  for (const [name, value] of Object.entries(values)) vi.stubEnv(name, value);
}

/** Points the real AWS SDK at the stand-in through the standard variables only, the path production takes. */
export function stubStandInCredentials(secretsManager: SecretsManagerStandIn) {
  stubAwsEnvironment({
    AWS_REGION: secretsManager.region,
    AWS_ACCESS_KEY_ID: STAND_IN_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: STAND_IN_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManager.url,
  });
}

export function awsBackend(secretsManager: () => SecretsManagerStandIn): SecretBackend {
  let store: SecretStore;
  const nameFor = (organizationId: string) => secretName(AWS_PREFIX, organizationId);
  const secretsOf = (organizationId: string) => secretsManager().secrets().filter((secret) => secret.name === nameFor(organizationId));
  const writeRequests = (organizationId: string) =>
    secretsManager().requests.filter(
      (request) =>
        (request.operation === "PutSecretValue" || request.operation === "CreateSecret") && request.secretId?.includes(organizationId),
    );

  const fault = (label: string, reason: SecretStoreErrorCode, spec: Fault, mayLandLate = false): WriteFault => ({
    label,
    reason,
    mayLandLate,
    async arm() {
      secretsManager().injectFault(spec);
      return store;
    },
  });
  const faultsOn = (operation: "PutSecretValue" | "CreateSecret") => [
    fault(`AccessDeniedException on ${operation}`, "access_denied", { operation, error: "AccessDeniedException" }),
    fault(`ThrottlingException on every ${operation}`, "throttled", { operation, error: "ThrottlingException" }),
    fault(`InternalServiceError on ${operation}`, "unavailable", { operation, error: "InternalServiceError" }),
    // The stand-in does the work on arrival and only answers late, as a real lost response would.
    fault(`${operation} answering past the timeout`, "timeout", { operation, delayMs: SECRETS_TIMEOUT_MS + 500 }, true),
  ];

  return {
    name: "aws",
    async setUp() {
      secretsManager().reset();
      stubStandInCredentials(secretsManager());
      store = createAwsSecretStore({ prefix: AWS_PREFIX, kmsKeyId: KMS_KEY_ID, timeoutMs: SECRETS_TIMEOUT_MS });
    },
    async tearDown() {
      secretsManager().clearFaults();
      vi.unstubAllEnvs();
    },
    store: () => store,
    processSettings: () => ({ backend: "aws", prefix: AWS_PREFIX, kmsKeyId: KMS_KEY_ID }),
    expectedRef: (organizationId) =>
      new RegExp(`^arn:aws:secretsmanager:${secretsManager().region}:\\d{12}:secret:${nameFor(organizationId)}-[A-Za-z0-9]{6}$`),
    async state(organizationId) {
      const [secret, ...others] = secretsOf(organizationId);
      expect(others).toEqual([]);
      if (!secret) return null;
      return {
        current: secret.versions.find((version) => version.stages.includes("AWSCURRENT"))?.versionId,
        deleted: secret.deletedDate !== undefined,
        versions: secret.versions.map((version) => ({ id: version.versionId, stages: version.stages })),
      };
    },
    secretCount: async (organizationId) => secretsOf(organizationId).length,
    async expectNothingWritten(organizationId) {
      expect(secretsOf(organizationId)).toEqual([]);
      expect(writeRequests(organizationId)).toEqual([]);
    },
    writeFaults: (previous) => faultsOn(previous ? "PutSecretValue" : "CreateSecret"),
    breakReadBack() {
      secretsManager().injectFault({ operation: "GetSecretValue", error: "AccessDeniedException" });
      return { reason: "access_denied", repair: () => secretsManager().clearFaults() };
    },
  };
}

/**
 * Gives each test of the suite a fresh `backend`, and returns the list a test pushes its own cleanups to (database
 * faults, clients, held locks): they run after the test, last first, before the backend is torn down.
 */
export function freshBackendPerTest(backend: SecretBackend): Array<() => Promise<void>> {
  const cleanups: Array<() => Promise<void>> = [];
  beforeEach(() => backend.setUp());
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await backend.tearDown();
  });
  return cleanups;
}
