import { randomBytes, randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { inspect } from "node:util";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { createAwsSecretStore } from "@/lib/secrets/aws";
import { SecretStoreError, type SecretStore, type SecretStoreErrorCode } from "@/lib/secrets/store";
import { startSecretsManagerStandIn, STAND_IN_CREDENTIALS, type SecretsManagerStandIn } from "../support/secrets-manager-stand-in";

// The real SDK against the stand-in on a real port. Region, credentials and endpoint reach the SDK only through
// the standard environment variables, the same path production uses.

const PREFIX = "gitar-test";
const KMS_KEY_ID = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const TIMEOUT_MS = 500;

let standIn: SecretsManagerStandIn;

beforeAll(async () => {
  standIn = await startSecretsManagerStandIn();
});
afterAll(async () => {
  await standIn.close();
});

beforeEach(() => {
  standIn.reset();
  useStandardSources({
    AWS_REGION: standIn.region,
    AWS_ACCESS_KEY_ID: STAND_IN_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: STAND_IN_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: standIn.url,
  });
});
afterEach(() => {
  vi.unstubAllEnvs();
});

/** Sets exactly these AWS variables, with nothing from the machine (profiles, files, instance metadata) leaking in. */
function useStandardSources(values: Record<string, string | undefined>) {
  for (const name of Object.keys(process.env)) if (name.startsWith("AWS_")) vi.stubEnv(name, undefined);
  vi.stubEnv("AWS_CONFIG_FILE", "/nonexistent/aws-config");
  vi.stubEnv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials");
  vi.stubEnv("AWS_EC2_METADATA_DISABLED", "true");
  for (const [name, value] of Object.entries(values)) vi.stubEnv(name, value);
}

function newStore(options: { kmsKeyId?: string } = {}): SecretStore {
  return createAwsSecretStore({ prefix: PREFIX, kmsKeyId: options.kmsKeyId, timeoutMs: TIMEOUT_MS });
}

const newToken = () => `bkua_${randomBytes(20).toString("hex")}`;
const orgId = () => randomUUID();
const operations = () => standIn.requests.map((request) => request.operation);

async function expectStoreError(promise: Promise<unknown>, code: SecretStoreErrorCode, token: string): Promise<SecretStoreError> {
  const error: unknown = await promise.then(
    () => new Error("expected the call to fail"),
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(SecretStoreError);
  const storeError = error as SecretStoreError;
  expect(storeError.code, storeError.message).toBe(code);
  for (const text of [storeError.message, String(storeError), storeError.stack ?? "", JSON.stringify(storeError), inspect(storeError)]) {
    expect(text).not.toContain(token);
  }
  return storeError;
}

describe("AWS secret store against the Secrets Manager stand-in", () => {
  it("creates the secret on first write, with tags, description and the KMS key", async () => {
    const store = newStore({ kmsKeyId: KMS_KEY_ID });
    const organizationId = orgId();
    const token = newToken();
    const requestToken = randomUUID();

    const written = await store.writeBuildkiteToken(organizationId, token, { requestToken });

    const name = `${PREFIX}/${organizationId}/buildkite-api-token`;
    expect(written.ref).toMatch(new RegExp(`^arn:aws:secretsmanager:${standIn.region}:\\d{12}:secret:${name}-[A-Za-z0-9]{6}$`));
    expect(written.version).toBe(requestToken); // Secrets Manager makes the ClientRequestToken the VersionId
    expect(operations()).toEqual(["DescribeSecret", "CreateSecret"]);

    const [secret] = standIn.secrets();
    expect(secret).toMatchObject({
      arn: written.ref,
      name,
      kmsKeyId: KMS_KEY_ID,
      tags: [
        { Key: "app", Value: "gitar" },
        { Key: "gitar:organization-id", Value: organizationId },
        { Key: "gitar:integration", Value: "buildkite" },
      ],
      versions: [{ versionId: requestToken, stages: ["AWSCURRENT"], value: token }],
    });
    expect(secret?.description).not.toContain(token);
    expect(await store.read(written)).toBe(token);
  });

  it("leaves KmsKeyId out when none is configured (the account's aws/secretsmanager key)", async () => {
    await newStore().writeBuildkiteToken(orgId(), newToken(), { requestToken: randomUUID() });
    expect(standIn.secrets()[0]?.kmsKeyId).toBeUndefined();
  });

  it("puts a new current version on the second write and keeps the previous one readable by version id", async () => {
    const store = newStore();
    const organizationId = orgId();
    const first = newToken();
    const second = newToken();
    const v1 = await store.writeBuildkiteToken(organizationId, first, { requestToken: randomUUID() });
    standIn.requests.length = 0;

    const v2 = await store.writeBuildkiteToken(organizationId, second, { requestToken: randomUUID() });

    expect(operations()).toEqual(["DescribeSecret", "PutSecretValue"]);
    expect(v2.ref).toBe(v1.ref);
    expect(v2.version).not.toBe(v1.version);
    expect(await store.read(v2)).toBe(second);
    expect(await store.read(v1)).toBe(first);
    const stages = Object.fromEntries(standIn.secrets()[0]!.versions.map((version) => [version.versionId, version.stages]));
    expect(stages).toEqual({ [v1.version]: ["AWSPREVIOUS"], [v2.version]: ["AWSCURRENT"] });
  });

  it("produces one version when a write is retried with the same request token", async () => {
    const store = newStore();
    const organizationId = orgId();
    const token = newToken();
    const requestToken = randomUUID();

    const first = await store.writeBuildkiteToken(organizationId, token, { requestToken });
    const retried = await store.writeBuildkiteToken(organizationId, token, { requestToken });
    expect(retried).toEqual(first);

    const again = newToken();
    const retryToken = randomUUID();
    const put = await store.writeBuildkiteToken(organizationId, again, { requestToken: retryToken });
    expect(await store.writeBuildkiteToken(organizationId, again, { requestToken: retryToken })).toEqual(put);

    expect(standIn.secrets()[0]!.versions).toHaveLength(2);
  });

  it("produces one version when the SDK retries a CreateSecret whose response was lost", async () => {
    const store = newStore();
    const organizationId = orgId();
    const token = newToken();
    // The first CreateSecret outlives the client's timeout; the service still completes it afterwards.
    standIn.injectFault({ operation: "CreateSecret", delayMs: TIMEOUT_MS + 400, times: 1 });

    const written = await store.writeBuildkiteToken(organizationId, token, { requestToken: randomUUID() });
    await vi.waitFor(() => expect(standIn.requests.filter((request) => request.operation === "CreateSecret")).toHaveLength(2));

    expect(standIn.secrets()[0]!.versions).toEqual([expect.objectContaining({ versionId: written.version, value: token })]);
  });

  it("refuses to reuse a request token for a different value", async () => {
    const store = newStore();
    const organizationId = orgId();
    const requestToken = randomUUID();
    await store.writeBuildkiteToken(organizationId, newToken(), { requestToken });
    const other = newToken();
    await expectStoreError(store.writeBuildkiteToken(organizationId, other, { requestToken }), "misconfigured", other);
  });

  it("falls back to PutSecretValue when a concurrent writer creates the secret first", async () => {
    const store = newStore();
    const organizationId = orgId();
    // Hold both DescribeSecret answers so that both writers see "no secret" and both try CreateSecret.
    standIn.injectFault({ operation: "DescribeSecret", delayMs: 150, times: 2 });

    const [a, b] = await Promise.all([
      store.writeBuildkiteToken(organizationId, newToken(), { requestToken: randomUUID() }),
      store.writeBuildkiteToken(organizationId, newToken(), { requestToken: randomUUID() }),
    ]);

    expect(standIn.requests.some((request) => request.operation === "CreateSecret" && request.error === "ResourceExistsException")).toBe(true);
    expect(a.ref).toBe(b.ref);
    expect(standIn.secrets()[0]!.versions).toHaveLength(2);
  });

  it("restores a secret scheduled for deletion, then writes the new version", async () => {
    const store = newStore();
    const organizationId = orgId();
    const first = await store.writeBuildkiteToken(organizationId, newToken(), { requestToken: randomUUID() });
    await store.rollback(organizationId, first, null);
    expect(standIn.secrets()[0]?.deletedDate).toBeDefined();
    standIn.requests.length = 0;

    const token = newToken();
    const written = await store.writeBuildkiteToken(organizationId, token, { requestToken: randomUUID() });

    expect(operations()).toEqual(["DescribeSecret", "RestoreSecret", "PutSecretValue"]);
    expect(written.ref).toBe(first.ref);
    expect(standIn.secrets()[0]?.deletedDate).toBeUndefined();
    expect(await store.read(written)).toBe(token);
  });

  it("retries throttling inside the SDK and succeeds", async () => {
    standIn.injectFault({ operation: "DescribeSecret", error: "ThrottlingException", times: 1 });
    const token = newToken();
    const written = await newStore().writeBuildkiteToken(orgId(), token, { requestToken: randomUUID() });

    const describes = standIn.requests.filter((request) => request.operation === "DescribeSecret");
    expect(describes.map((request) => request.error)).toEqual(["ThrottlingException", "ResourceNotFoundException"]);
    expect(operations()).toContain("CreateSecret");
    expect(await newStore().read(written)).toBe(token);
  });

  it("reports throttled once the SDK's three attempts are throttled", async () => {
    standIn.injectFault({ operation: "DescribeSecret", error: "ThrottlingException" });
    const token = newToken();
    const error = await expectStoreError(newStore().writeBuildkiteToken(orgId(), token, { requestToken: randomUUID() }), "throttled", token);

    expect(error.retryable).toBe(true);
    expect(error.awsErrorName).toBe("ThrottlingException");
    expect(operations()).toEqual(["DescribeSecret", "DescribeSecret", "DescribeSecret"]);
  });

  it("reports access_denied with IAM guidance and never the service's message", async () => {
    const token = newToken();
    // A service message that echoes input must not reach our error.
    standIn.injectFault({ operation: "CreateSecret", error: "AccessDeniedException", message: `denied for ${token}` });
    const error = await expectStoreError(newStore().writeBuildkiteToken(orgId(), token, { requestToken: randomUUID() }), "access_denied", token);

    expect(error.retryable).toBe(false);
    expect(error.message).toContain("IAM policy");
    expect(error.message).toContain(`${PREFIX}/*`);
    expect(error.message).toContain("secretsmanager:CreateSecret");
    expect(error.message).not.toContain("denied for");
  });

  it("reports access_denied for credentials the service does not accept", async () => {
    const token = newToken();
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", "not-the-right-secret");
    const wrongSecret = await expectStoreError(newStore().writeBuildkiteToken(orgId(), token, { requestToken: randomUUID() }), "access_denied", token);
    expect(wrongSecret.awsErrorName).toBe("InvalidSignatureException");

    vi.stubEnv("AWS_ACCESS_KEY_ID", "AKIAUNKNOWN000000000");
    const unknownKey = await expectStoreError(newStore().writeBuildkiteToken(orgId(), token, { requestToken: randomUUID() }), "access_denied", token);
    expect(unknownKey.awsErrorName).toBe("UnrecognizedClientException");
  });

  it("reports unavailable when the service keeps failing with InternalServiceError", async () => {
    standIn.injectFault({ operation: "PutSecretValue", error: "InternalServiceError" });
    const store = newStore();
    const organizationId = orgId();
    await store.writeBuildkiteToken(organizationId, newToken(), { requestToken: randomUUID() });
    const token = newToken();

    const error = await expectStoreError(store.writeBuildkiteToken(organizationId, token, { requestToken: randomUUID() }), "unavailable", token);
    expect(error.retryable).toBe(true);
    expect(standIn.requests.filter((request) => request.operation === "PutSecretValue")).toHaveLength(3);
  });

  it("reports unavailable when nothing listens at the endpoint", async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const probe = createServer();
      probe.listen(0, "127.0.0.1", () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    vi.stubEnv("AWS_ENDPOINT_URL_SECRETS_MANAGER", `http://127.0.0.1:${closedPort}`);
    const token = newToken();
    const error = await expectStoreError(newStore().writeBuildkiteToken(orgId(), token, { requestToken: randomUUID() }), "unavailable", token);
    expect(error.message).toContain("ECONNREFUSED");
  });

  it("reports unavailable when the connection keeps dropping", async () => {
    standIn.injectFault({ operation: "DescribeSecret", error: "ConnectionReset" });
    const token = newToken();
    const error = await expectStoreError(newStore().writeBuildkiteToken(orgId(), token, { requestToken: randomUUID() }), "unavailable", token);
    expect(error.retryable).toBe(true);
    expect(operations()).toEqual(["DescribeSecret", "DescribeSecret", "DescribeSecret"]);
  });

  it("reports timeout when the service answers later than timeoutMs", async () => {
    standIn.injectFault({ operation: "DescribeSecret", delayMs: TIMEOUT_MS * 3 });
    const token = newToken();
    const started = Date.now();
    const error = await expectStoreError(newStore().writeBuildkiteToken(orgId(), token, { requestToken: randomUUID() }), "timeout", token);

    expect(error.retryable).toBe(true);
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS * 3 * 3);
  });

  it("reports encryption for KMS failures", async () => {
    const store = newStore();
    const token = newToken();
    const written = await store.writeBuildkiteToken(orgId(), token, { requestToken: randomUUID() });
    standIn.injectFault({ operation: "GetSecretValue", error: "DecryptionFailure", times: 1 });
    await expectStoreError(store.read(written), "encryption", token);

    standIn.injectFault({ operation: "CreateSecret", error: "EncryptionFailure", times: 1 });
    const other = newToken();
    await expectStoreError(store.writeBuildkiteToken(orgId(), other, { requestToken: randomUUID() }), "encryption", other);
  });

  it("reports misconfigured when no region or no credentials come from the standard sources", async () => {
    const token = newToken();
    useStandardSources({ AWS_ACCESS_KEY_ID: STAND_IN_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: STAND_IN_CREDENTIALS.secretAccessKey, AWS_ENDPOINT_URL_SECRETS_MANAGER: standIn.url });
    const noRegion = await expectStoreError(newStore().writeBuildkiteToken(orgId(), token, { requestToken: randomUUID() }), "misconfigured", token);
    expect(noRegion.message).toContain("AWS_REGION");

    useStandardSources({ AWS_REGION: standIn.region, AWS_ENDPOINT_URL_SECRETS_MANAGER: standIn.url });
    const noCredentials = await expectStoreError(newStore().writeBuildkiteToken(orgId(), token, { requestToken: randomUUID() }), "misconfigured", token);
    expect(noCredentials.message).toContain("credentials");
    expect(standIn.requests).toHaveLength(0);
  });

  it("reports not_found for a version that does not exist", async () => {
    const store = newStore();
    const token = newToken();
    const written = await store.writeBuildkiteToken(orgId(), token, { requestToken: randomUUID() });
    await expectStoreError(store.read({ ref: written.ref, version: randomUUID() }), "not_found", token);
  });

  it("rolls back to the previous version, idempotently", async () => {
    const store = newStore();
    const organizationId = orgId();
    const oldToken = newToken();
    const previous = await store.writeBuildkiteToken(organizationId, oldToken, { requestToken: randomUUID() });
    const written = await store.writeBuildkiteToken(organizationId, newToken(), { requestToken: randomUUID() });
    standIn.requests.length = 0;

    await store.rollback(organizationId, written, previous);
    await store.rollback(organizationId, written, previous);

    expect(operations()).toEqual(["DescribeSecret", "UpdateSecretVersionStage", "DescribeSecret"]);
    const current = standIn.secrets()[0]!.versions.find((version) => version.stages.includes("AWSCURRENT"));
    expect(current?.versionId).toBe(previous.version);
    expect(await store.read(previous)).toBe(oldToken);
  });

  it("rolls back a first write by scheduling deletion with the 7-day minimum window, idempotently", async () => {
    const store = newStore();
    const organizationId = orgId();
    const token = newToken();
    const written = await store.writeBuildkiteToken(organizationId, token, { requestToken: randomUUID() });

    await store.rollback(organizationId, written, null);
    await store.rollback(organizationId, written, null);

    expect(standIn.requests.filter((request) => request.operation === "DeleteSecret")).toHaveLength(1);
    const [secret] = standIn.secrets();
    const windowDays = (Date.parse(secret!.deletionDate!) - Date.parse(secret!.deletedDate!)) / 86_400_000;
    expect(windowDays).toBe(7);
    await expectStoreError(store.read(written), "not_found", token);
  });

  it("leaves a newer write alone when rolling back an older one", async () => {
    const store = newStore();
    const organizationId = orgId();
    const previous = await store.writeBuildkiteToken(organizationId, newToken(), { requestToken: randomUUID() });
    const written = await store.writeBuildkiteToken(organizationId, newToken(), { requestToken: randomUUID() });
    const newer = await store.writeBuildkiteToken(organizationId, newToken(), { requestToken: randomUUID() });

    await store.rollback(organizationId, written, previous);
    await store.rollback(organizationId, previous, null);

    const secret = standIn.secrets()[0]!;
    expect(secret.deletedDate).toBeUndefined();
    expect(secret.versions.find((version) => version.stages.includes("AWSCURRENT"))?.versionId).toBe(newer.version);
  });

  it("makes a retried write current again after it was rolled back", async () => {
    const store = newStore();
    const organizationId = orgId();
    const previous = await store.writeBuildkiteToken(organizationId, newToken(), { requestToken: randomUUID() });
    const token = newToken();
    const requestToken = randomUUID();
    const written = await store.writeBuildkiteToken(organizationId, token, { requestToken });
    await store.rollback(organizationId, written, previous);

    const retried = await store.writeBuildkiteToken(organizationId, token, { requestToken });

    expect(retried).toEqual(written);
    const current = standIn.secrets()[0]!.versions.find((version) => version.stages.includes("AWSCURRENT"));
    expect(current?.versionId).toBe(written.version);
  });

  it("exposes faults, stored secrets and reset over the stand-in's HTTP control API", async () => {
    const store = newStore();
    const token = newToken();
    const written = await store.writeBuildkiteToken(orgId(), token, { requestToken: randomUUID() });

    const listed = (await (await fetch(`${standIn.url}/__stand-in/secrets`)).json()) as { secrets: Array<{ arn: string; versions: Array<{ value: string }> }> };
    expect(listed.secrets).toEqual([expect.objectContaining({ arn: written.ref, versions: [expect.objectContaining({ value: token })] })]);

    const injected = await fetch(`${standIn.url}/__stand-in/faults`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ operation: "GetSecretValue", error: "AccessDeniedException", times: 1 }),
    });
    expect(injected.status).toBe(201);
    await expectStoreError(store.read(written), "access_denied", token);
    expect(await store.read(written)).toBe(token);

    const rejected = await fetch(`${standIn.url}/__stand-in/faults`, { method: "POST", body: JSON.stringify({ error: "NoSuchError" }) });
    expect(rejected.status).toBe(400);

    expect((await fetch(`${standIn.url}/__stand-in/reset`, { method: "POST" })).status).toBe(200);
    expect(standIn.secrets()).toEqual([]);
  });

  it("answers unsigned requests the way the real endpoint does", async () => {
    const response = await fetch(standIn.url, {
      method: "POST",
      headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": "secretsmanager.DescribeSecret" },
      body: JSON.stringify({ SecretId: "anything" }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ __type: "MissingAuthenticationTokenException", message: "Missing Authentication Token" });
  });
});
