import { randomBytes, randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { inspect } from "node:util";
import { CreateSecretCommand, DeleteSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { createAwsSecretStore } from "@/lib/secrets/aws";
import { SecretStoreError, type SecretRef, type SecretStore, type SecretStoreErrorCode } from "@/lib/secrets/store";
import { stubAwsEnvironment, stubStandInCredentials } from "../support/secret-backends";
import { startSecretsManagerStandIn, STAND_IN_CREDENTIALS, type SecretsManagerStandIn, type StoredSecretView } from "../support/secrets-manager-stand-in";

// The real SDK against the stand-in on a real port. Region, credentials and endpoint reach the SDK only through
// the standard environment variables, the same path production uses.

const PREFIX = "gitar-test";
const KMS_KEY_ID = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const TIMEOUT_MS = 500;
const DAY_MS = 86_400_000;

let standIn: SecretsManagerStandIn;

beforeAll(async () => {
  standIn = await startSecretsManagerStandIn();
});
afterAll(async () => {
  await standIn.close();
});

beforeEach(() => {
  standIn.reset();
  stubStandInCredentials(standIn);
});
afterEach(() => {
  vi.unstubAllEnvs();
});

function newStore(options: { kmsKeyId?: string; prefix?: string; recoveryDays?: number } = {}): SecretStore {
  return createAwsSecretStore({ prefix: options.prefix ?? PREFIX, kmsKeyId: options.kmsKeyId, timeoutMs: TIMEOUT_MS, recoveryDays: options.recoveryDays });
}

const newToken = () => `bkua_${randomBytes(20).toString("hex")}`;
const orgId = () => randomUUID();
const nameOf = (organizationId: string) => `${PREFIX}/${organizationId}/buildkite-api-token`;
const operations = () => standIn.requests.map((request) => request.operation);
const forget = () => {
  standIn.requests.length = 0;
};
/** A write as the use cases make it: a fresh request token per attempt, and the recorded version (if any). */
const put = (store: SecretStore, organizationId: string, token: string, previous: SecretRef | null = null, requestToken = randomUUID()) =>
  store.write(organizationId, token, { requestToken, previous });

function secretNamed(name: string): StoredSecretView {
  const secret = standIn.secrets().find((candidate) => candidate.name === name);
  expect(secret, name).toBeDefined();
  return secret!;
}
const stagesOf = (secret: StoredSecretView) => Object.fromEntries(secret.versions.map((version) => [version.versionId, version.stages]));
const currentOf = (secret: StoredSecretView) => secret.versions.find((version) => version.stages.includes("AWSCURRENT"))?.versionId;

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

/** An SDK client of our own, for secrets the store would never make (other prefixes, other names). */
function rawClient() {
  return new SecretsManagerClient({});
}
async function createRaw(names: string[]) {
  const client = rawClient();
  for (let start = 0; start < names.length; start += 25) {
    await Promise.all(names.slice(start, start + 25).map((Name) => client.send(new CreateSecretCommand({ Name, SecretString: "not-a-token" }))));
  }
  client.destroy();
}

describe("write", () => {
  it("creates the secret on first write with one request, with tags, description and the KMS key", async () => {
    const store = newStore({ kmsKeyId: KMS_KEY_ID });
    const organizationId = orgId();
    const token = newToken();
    const requestToken = randomUUID();

    const written = await put(store, organizationId, token, null, requestToken);

    const name = nameOf(organizationId);
    expect(written.ref).toMatch(new RegExp(`^arn:aws:secretsmanager:${standIn.region}:\\d{12}:secret:${name}-[A-Za-z0-9]{6}$`));
    expect(written.version).toBe(requestToken); // Secrets Manager makes the ClientRequestToken the VersionId
    expect(operations()).toEqual(["CreateSecret"]);

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
    expect(await store.read(organizationId, written)).toBe(token);
  });

  it("leaves KmsKeyId out when none is configured (the account's aws/secretsmanager key)", async () => {
    await put(newStore(), orgId(), newToken());
    expect(standIn.secrets()[0]?.kmsKeyId).toBeUndefined();
  });

  it("writes onto a recorded secret with exactly one request: PutSecretValue, no DescribeSecret", async () => {
    const store = newStore();
    const organizationId = orgId();
    const first = newToken();
    const second = newToken();
    const v1 = await put(store, organizationId, first);
    forget();

    const v2 = await put(store, organizationId, second, v1);

    expect(standIn.requests).toEqual([expect.objectContaining({ operation: "PutSecretValue", secretId: v1.ref, clientRequestToken: v2.version, status: 200 })]);
    expect(v2.ref).toBe(v1.ref);
    expect(v2.version).not.toBe(v1.version);
    expect(await store.read(organizationId, v2)).toBe(second);
    expect(await store.read(organizationId, v1)).toBe(first);
    expect(stagesOf(standIn.secrets()[0]!)).toEqual({ [v1.version]: ["AWSPREVIOUS"], [v2.version]: ["AWSCURRENT"] });
  });

  it("writes onto an existing secret nothing recorded by way of CreateSecret, then DescribeSecret", async () => {
    const store = newStore();
    const organizationId = orgId();
    const leftover = await put(store, organizationId, newToken());
    forget();

    const written = await put(store, organizationId, newToken(), null);

    expect(operations()).toEqual(["CreateSecret", "DescribeSecret", "PutSecretValue"]);
    expect(standIn.requests[0]?.error).toBe("ResourceExistsException");
    expect(written.ref).toBe(leftover.ref);
    expect(stagesOf(standIn.secrets()[0]!)).toEqual({ [leftover.version]: ["AWSPREVIOUS"], [written.version]: ["AWSCURRENT"] });
  });

  it("produces one version when a write is retried with the same request token", async () => {
    const store = newStore();
    const organizationId = orgId();
    const token = newToken();
    const requestToken = randomUUID();

    const first = await put(store, organizationId, token, null, requestToken);
    expect(await put(store, organizationId, token, null, requestToken)).toEqual(first);

    const again = newToken();
    const retryToken = randomUUID();
    const second = await put(store, organizationId, again, first, retryToken);
    expect(await put(store, organizationId, again, first, retryToken)).toEqual(second);

    expect(standIn.secrets()[0]!.versions).toHaveLength(2);
  });

  it("produces one version when the SDK retries a CreateSecret whose response was lost", async () => {
    const store = newStore();
    const token = newToken();
    // The first CreateSecret outlives the client's timeout; the service still completes it afterwards.
    standIn.injectFault({ operation: "CreateSecret", delayMs: TIMEOUT_MS + 400, times: 1 });

    const written = await put(store, orgId(), token);
    await vi.waitFor(() => expect(standIn.requests.filter((request) => request.operation === "CreateSecret")).toHaveLength(2));

    expect(standIn.secrets()[0]!.versions).toEqual([expect.objectContaining({ versionId: written.version, value: token })]);
  });

  it("produces one version when the SDK retries a PutSecretValue whose response was lost", async () => {
    const store = newStore();
    const organizationId = orgId();
    const recorded = await put(store, organizationId, newToken());
    const token = newToken();
    standIn.injectFault({ operation: "PutSecretValue", delayMs: TIMEOUT_MS + 400, times: 1 });

    const written = await put(store, organizationId, token, recorded);
    await vi.waitFor(() => expect(standIn.requests.filter((request) => request.operation === "PutSecretValue")).toHaveLength(2));

    expect(stagesOf(standIn.secrets()[0]!)).toEqual({ [recorded.version]: ["AWSPREVIOUS"], [written.version]: ["AWSCURRENT"] });
    expect(await store.read(organizationId, written)).toBe(token);
  });

  it("refuses to reuse a request token for a different value, on either path", async () => {
    const store = newStore();
    const organizationId = orgId();
    const requestToken = randomUUID();
    const first = await put(store, organizationId, newToken(), null, requestToken);
    const other = newToken();
    await expectStoreError(put(store, organizationId, other, null, requestToken), "misconfigured", other);
    await expectStoreError(put(store, organizationId, other, first, requestToken), "misconfigured", other);
    expect(standIn.secrets()[0]!.versions).toHaveLength(1);
  });

  it("falls back to PutSecretValue when a concurrent writer creates the secret first", async () => {
    const store = newStore();
    const organizationId = orgId();

    const [a, b] = await Promise.all([put(store, organizationId, newToken()), put(store, organizationId, newToken())]);

    expect(standIn.requests.some((request) => request.operation === "CreateSecret" && request.error === "ResourceExistsException")).toBe(true);
    expect(a.ref).toBe(b.ref);
    expect(standIn.secrets()).toHaveLength(1);
    expect(standIn.secrets()[0]!.versions).toHaveLength(2);
  });

  it("creates the secret again when the recorded one was deleted behind our back", async () => {
    const store = newStore();
    const organizationId = orgId();
    const recorded = await put(store, organizationId, newToken());
    await store.deleteSecret(organizationId, recorded.ref);
    standIn.purgeDeleted();
    forget();

    const token = newToken();
    const written = await put(store, organizationId, token, recorded);

    expect(standIn.requests.map((request) => [request.operation, request.error])).toEqual([
      ["PutSecretValue", "ResourceNotFoundException"],
      ["CreateSecret", undefined],
    ]);
    expect(written.ref).not.toBe(recorded.ref);
    expect(secretNamed(nameOf(organizationId)).versions).toEqual([expect.objectContaining({ versionId: written.version, stages: ["AWSCURRENT"] })]);
    expect(await store.read(organizationId, written)).toBe(token);
  });

  it("writes onto the live secret when the recorded one was replaced behind our back", async () => {
    const store = newStore();
    const organizationId = orgId();
    const recorded = await put(store, organizationId, newToken());
    await store.deleteSecret(organizationId, recorded.ref);
    standIn.purgeDeleted();
    const replacement = await put(store, organizationId, newToken());
    forget();

    const written = await put(store, organizationId, newToken(), recorded);

    expect(standIn.requests.map((request) => [request.operation, request.error])).toEqual([
      ["PutSecretValue", "ResourceNotFoundException"],
      ["CreateSecret", "ResourceExistsException"],
      ["DescribeSecret", undefined],
      ["PutSecretValue", undefined],
    ]);
    expect(written.ref).toBe(replacement.ref);
    expect(currentOf(secretNamed(nameOf(organizationId)))).toBe(written.version);
  });

  it("restores the recorded secret when it is scheduled for deletion, keeping its version labelled", async () => {
    const store = newStore();
    const organizationId = orgId();
    const recorded = await put(store, organizationId, newToken());
    await newStore().deleteSecret(organizationId, recorded.ref);
    forget();

    const token = newToken();
    const written = await put(store, organizationId, token, recorded);

    expect(standIn.requests.map((request) => [request.operation, request.error])).toEqual([
      ["PutSecretValue", "InvalidRequestException"],
      ["CreateSecret", "InvalidRequestException"],
      ["DescribeSecret", undefined],
      ["RestoreSecret", undefined],
      ["PutSecretValue", undefined],
    ]);
    const secret = secretNamed(nameOf(organizationId));
    expect(secret.deletedDate).toBeUndefined();
    expect(written.ref).toBe(recorded.ref);
    expect(stagesOf(secret)).toEqual({ [recorded.version]: ["AWSPREVIOUS"], [written.version]: ["AWSCURRENT"] });
    expect(await store.read(organizationId, written)).toBe(token);
  });

  it("on a first write onto a name scheduled for deletion, restores it, writes, and leaves the disconnected version unlabelled", async () => {
    const store = newStore();
    const organizationId = orgId();
    const disconnected = await put(store, organizationId, newToken());
    await store.undoWrite(organizationId, disconnected, null);
    expect(secretNamed(nameOf(organizationId)).deletedDate).toBeDefined();
    forget();

    const token = newToken();
    const written = await put(store, organizationId, token, null);

    expect(operations()).toEqual(["CreateSecret", "DescribeSecret", "RestoreSecret", "PutSecretValue", "DescribeSecret", "UpdateSecretVersionStage"]);
    expect(standIn.requests[0]?.error).toBe("InvalidRequestException");
    expect(written.ref).toBe(disconnected.ref);
    const secret = secretNamed(nameOf(organizationId));
    expect(secret.deletedDate).toBeUndefined();
    expect(stagesOf(secret)).toEqual({ [disconnected.version]: [], [written.version]: ["AWSCURRENT"] });
    expect(await store.read(organizationId, written)).toBe(token);
  });

  it("never writes onto another organisation's secret, even when handed its reference", async () => {
    const store = newStore();
    const victim = orgId();
    const theirs = await put(store, victim, newToken());
    const before = standIn.secrets();
    forget();

    const organizationId = orgId();
    const written = await put(store, organizationId, newToken(), theirs);

    expect(operations()).toEqual(["CreateSecret"]);
    expect(written.ref).not.toBe(theirs.ref);
    expect(secretNamed(nameOf(victim))).toEqual(before.find((secret) => secret.name === nameOf(victim)));
  });

  it("ends a call at the caller's deadline, well before its own timeout, and says so without the token", async () => {
    const store = newStore();
    const organizationId = orgId();
    const written = await put(store, organizationId, "bkua_slow_read");
    standIn.injectFault({ operation: "GetSecretValue", delayMs: TIMEOUT_MS * 3, times: 1 });

    const started = performance.now();
    const error = await expectStoreError(store.withSignal(AbortSignal.timeout(200)).read(organizationId, written), "timeout", "bkua_slow_read");

    expect(performance.now() - started).toBeLessThan(TIMEOUT_MS);
    expect(error.message).toContain("deadline");
  });

  it("never reads another organisation's secret, even when handed its reference, and sends no request", async () => {
    const store = newStore();
    const victim = orgId();
    const theirs = await put(store, victim, "bkua_theirs");
    forget();

    await expectStoreError(store.read(orgId(), theirs), "misconfigured", "bkua_theirs");

    expect(operations()).toEqual([]);
    expect(await store.read(victim, theirs)).toBe("bkua_theirs");
  });

  it("does not fall back when the one PutSecretValue is refused, and never repeats the service's message", async () => {
    const store = newStore();
    const organizationId = orgId();
    const recorded = await put(store, organizationId, newToken());
    const token = newToken();
    standIn.injectFault({ operation: "PutSecretValue", error: "AccessDeniedException", message: `denied for ${token}` });
    forget();

    const error = await expectStoreError(put(store, organizationId, token, recorded), "access_denied", token);

    expect(operations()).toEqual(["PutSecretValue"]);
    expect(error.message).toContain("secretsmanager:PutSecretValue");
    expect(error.message).not.toContain("denied for");
    expect(currentOf(standIn.secrets()[0]!)).toBe(recorded.version);
  });
});

describe("failures", () => {
  it("retries throttling inside the SDK and succeeds", async () => {
    standIn.injectFault({ operation: "CreateSecret", error: "ThrottlingException", times: 1 });
    const token = newToken();
    const organizationId = orgId();
    const written = await put(newStore(), organizationId, token);

    expect(standIn.requests.map((request) => [request.operation, request.error])).toEqual([
      ["CreateSecret", "ThrottlingException"],
      ["CreateSecret", undefined],
    ]);
    expect(await newStore().read(organizationId, written)).toBe(token);
  });

  it("reports throttled once the SDK's three attempts are throttled", async () => {
    standIn.injectFault({ operation: "CreateSecret", error: "ThrottlingException" });
    const token = newToken();
    const error = await expectStoreError(put(newStore(), orgId(), token), "throttled", token);

    expect(error.retryable).toBe(true);
    expect(error.awsErrorName).toBe("ThrottlingException");
    expect(operations()).toEqual(["CreateSecret", "CreateSecret", "CreateSecret"]);
  });

  it("reports access_denied with IAM guidance and never the service's message", async () => {
    const token = newToken();
    // A service message that echoes input must not reach our error.
    standIn.injectFault({ operation: "CreateSecret", error: "AccessDeniedException", message: `denied for ${token}` });
    const error = await expectStoreError(put(newStore(), orgId(), token), "access_denied", token);

    expect(error.retryable).toBe(false);
    expect(error.message).toContain("IAM policy");
    expect(error.message).toContain(`${PREFIX}/*`);
    expect(error.message).toContain("secretsmanager:CreateSecret");
    expect(error.message).not.toContain("denied for");
  });

  it("reports access_denied for credentials the service does not accept", async () => {
    const token = newToken();
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", "not-the-right-secret");
    const wrongSecret = await expectStoreError(put(newStore(), orgId(), token), "access_denied", token);
    expect(wrongSecret.awsErrorName).toBe("InvalidSignatureException");

    vi.stubEnv("AWS_ACCESS_KEY_ID", "AKIAUNKNOWN000000000");
    const unknownKey = await expectStoreError(put(newStore(), orgId(), token), "access_denied", token);
    expect(unknownKey.awsErrorName).toBe("UnrecognizedClientException");
  });

  it("reports unavailable when the service keeps failing with InternalServiceError", async () => {
    const store = newStore();
    const organizationId = orgId();
    const recorded = await put(store, organizationId, newToken());
    standIn.injectFault({ operation: "PutSecretValue", error: "InternalServiceError" });
    const token = newToken();

    const error = await expectStoreError(put(store, organizationId, token, recorded), "unavailable", token);
    expect(error.retryable).toBe(true);
    expect(standIn.requests.filter((request) => request.operation === "PutSecretValue")).toHaveLength(3);
    // Without a recorded version the general path meets the same failure.
    const other = newToken();
    await expectStoreError(put(store, organizationId, other, null), "unavailable", other);
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
    const error = await expectStoreError(put(newStore(), orgId(), token), "unavailable", token);
    expect(error.message).toContain("ECONNREFUSED");
  });

  it("reports unavailable when the connection keeps dropping", async () => {
    standIn.injectFault({ operation: "CreateSecret", error: "ConnectionReset" });
    const token = newToken();
    const error = await expectStoreError(put(newStore(), orgId(), token), "unavailable", token);
    expect(error.retryable).toBe(true);
    expect(operations()).toEqual(["CreateSecret", "CreateSecret", "CreateSecret"]);
  });

  it("reports timeout when the service answers later than timeoutMs", async () => {
    standIn.injectFault({ operation: "CreateSecret", delayMs: TIMEOUT_MS * 3 });
    const token = newToken();
    const started = Date.now();
    const error = await expectStoreError(put(newStore(), orgId(), token), "timeout", token);

    expect(error.retryable).toBe(true);
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS * 3 * 3);
  });

  it("reports encryption for KMS failures", async () => {
    const store = newStore();
    const token = newToken();
    const organizationId = orgId();
    const written = await put(store, organizationId, token);
    standIn.injectFault({ operation: "GetSecretValue", error: "DecryptionFailure", times: 1 });
    await expectStoreError(store.read(organizationId, written), "encryption", token);

    standIn.injectFault({ operation: "CreateSecret", error: "EncryptionFailure", times: 1 });
    const other = newToken();
    await expectStoreError(put(store, orgId(), other), "encryption", other);
  });

  it("reports misconfigured when no region or no credentials come from the standard sources", async () => {
    const token = newToken();
    stubAwsEnvironment({ AWS_ACCESS_KEY_ID: STAND_IN_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: STAND_IN_CREDENTIALS.secretAccessKey, AWS_ENDPOINT_URL_SECRETS_MANAGER: standIn.url });
    const noRegion = await expectStoreError(put(newStore(), orgId(), token), "misconfigured", token);
    expect(noRegion.message).toContain("AWS_REGION");

    stubAwsEnvironment({ AWS_REGION: standIn.region, AWS_ENDPOINT_URL_SECRETS_MANAGER: standIn.url });
    const noCredentials = await expectStoreError(put(newStore(), orgId(), token), "misconfigured", token);
    expect(noCredentials.message).toContain("credentials");
    expect(standIn.requests).toHaveLength(0);
  });

  it("reports not_found for a version that does not exist, and for a secret scheduled for deletion", async () => {
    const store = newStore();
    const organizationId = orgId();
    const token = newToken();
    const written = await put(store, organizationId, token);
    await expectStoreError(store.read(organizationId, { ref: written.ref, version: randomUUID() }), "not_found", token);
    await store.deleteSecret(organizationId, written.ref);
    await expectStoreError(store.read(organizationId, written), "not_found", token);
  });
});

describe("undoWrite", () => {
  it("makes the previous version current again, idempotently", async () => {
    const store = newStore();
    const organizationId = orgId();
    const oldToken = newToken();
    const previous = await put(store, organizationId, oldToken);
    const written = await put(store, organizationId, newToken(), previous);
    forget();

    await store.undoWrite(organizationId, written, previous);
    await store.undoWrite(organizationId, written, previous);

    expect(operations()).toEqual(["DescribeSecret", "UpdateSecretVersionStage", "DescribeSecret"]);
    expect(currentOf(standIn.secrets()[0]!)).toBe(previous.version);
    expect(await store.read(organizationId, previous)).toBe(oldToken);
  });

  it("schedules a first write for deletion with the 7-day minimum window, idempotently", async () => {
    const store = newStore();
    const organizationId = orgId();
    const token = newToken();
    const written = await put(store, organizationId, token);

    await store.undoWrite(organizationId, written, null);
    await store.undoWrite(organizationId, written, null);

    expect(standIn.requests.filter((request) => request.operation === "DeleteSecret")).toHaveLength(1);
    const [secret] = standIn.secrets();
    expect((Date.parse(secret!.deletionDate!) - Date.parse(secret!.deletedDate!)) / DAY_MS).toBe(7);
    await expectStoreError(store.read(organizationId, written), "not_found", token);
  });

  it("never touches a version that is no longer current", async () => {
    const store = newStore();
    const organizationId = orgId();
    const previous = await put(store, organizationId, newToken());
    const written = await put(store, organizationId, newToken(), previous);
    const newer = await put(store, organizationId, newToken(), previous);
    const before = standIn.secrets();
    forget();

    await store.undoWrite(organizationId, written, previous);
    await store.undoWrite(organizationId, previous, null);

    expect(operations()).toEqual(["DescribeSecret", "DescribeSecret"]);
    expect(standIn.secrets()).toEqual(before);
    expect(currentOf(standIn.secrets()[0]!)).toBe(newer.version);
  });

  it("is a no-op for a secret that is scheduled for deletion or gone", async () => {
    const store = newStore();
    const organizationId = orgId();
    const written = await put(store, organizationId, newToken());
    await store.deleteSecret(organizationId, written.ref);
    forget();

    await store.undoWrite(organizationId, written, null);
    standIn.purgeDeleted();
    await store.undoWrite(organizationId, written, null);

    expect(standIn.requests.map((request) => [request.operation, request.error])).toEqual([
      ["DescribeSecret", undefined],
      ["DescribeSecret", "ResourceNotFoundException"],
    ]);
  });

  it("removes a write onto a new secret when the recorded version lived on one that is gone", async () => {
    const store = newStore();
    const organizationId = orgId();
    const recorded = await put(store, organizationId, newToken());
    await store.deleteSecret(organizationId, recorded.ref);
    standIn.purgeDeleted();
    const written = await put(store, organizationId, newToken(), recorded);
    forget();

    await store.undoWrite(organizationId, written, recorded);

    expect(operations()).toEqual(["DescribeSecret", "DeleteSecret"]);
    expect(secretNamed(nameOf(organizationId)).deletedDate).toBeDefined();
  });

  it("makes a retried write current again after it was undone", async () => {
    const store = newStore();
    const organizationId = orgId();
    const previous = await put(store, organizationId, newToken());
    const token = newToken();
    const requestToken = randomUUID();
    const written = await put(store, organizationId, token, previous, requestToken);
    await store.undoWrite(organizationId, written, previous);

    const retried = await put(store, organizationId, token, previous, requestToken);

    expect(retried).toEqual(written);
    expect(currentOf(standIn.secrets()[0]!)).toBe(written.version);
  });

  it("refuses a reference that belongs to another organisation, without a request", async () => {
    const store = newStore();
    const theirs = await put(store, orgId(), newToken());
    forget();
    await expect(store.undoWrite(orgId(), theirs, null)).rejects.toThrow(TypeError);
    expect(standIn.requests).toEqual([]);
    expect(standIn.secrets()[0]!.deletedDate).toBeUndefined();
  });
});

describe("abandonWrite", () => {
  it("undoes a write that landed after the client gave up, and only that one", async () => {
    const store = newStore();
    const organizationId = orgId();
    const token = newToken();
    const requestToken = randomUUID();
    standIn.injectFault({ operation: "CreateSecret", delayMs: TIMEOUT_MS * 3 });
    await expectStoreError(put(store, organizationId, token, null, requestToken), "timeout", token);
    standIn.clearFaults();
    expect(currentOf(secretNamed(nameOf(organizationId)))).toBe(requestToken);

    await store.abandonWrite(organizationId, randomUUID(), null);
    expect(secretNamed(nameOf(organizationId)).deletedDate).toBeUndefined();

    await store.abandonWrite(organizationId, requestToken, null);
    expect(secretNamed(nameOf(organizationId)).deletedDate).toBeDefined();
  });

  it("puts the recorded version back when a late write landed on top of it", async () => {
    const store = newStore();
    const organizationId = orgId();
    const recorded = await put(store, organizationId, newToken());
    const token = newToken();
    const requestToken = randomUUID();
    standIn.injectFault({ operation: "PutSecretValue", delayMs: TIMEOUT_MS * 3 });
    await expectStoreError(put(store, organizationId, token, recorded, requestToken), "timeout", token);
    standIn.clearFaults();

    await store.abandonWrite(organizationId, requestToken, recorded);

    expect(currentOf(secretNamed(nameOf(organizationId)))).toBe(recorded.version);
  });
});

describe("deleteSecret", () => {
  it.each([
    { recoveryDays: undefined, days: 7 },
    { recoveryDays: 12, days: 12 },
    { recoveryDays: 30, days: 30 },
  ])("schedules deletion after the configured recovery window ($days days)", async ({ recoveryDays, days }) => {
    const store = newStore({ recoveryDays });
    const organizationId = orgId();
    const written = await put(store, organizationId, newToken());
    forget();
    const before = Date.now();

    await store.deleteSecret(organizationId, written.ref);

    expect(operations()).toEqual(["DeleteSecret"]);
    const secret = secretNamed(nameOf(organizationId));
    const deletedAt = Date.parse(secret.deletedDate!);
    expect(deletedAt).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(secret.deletionDate!) - deletedAt).toBe(days * DAY_MS);
  });

  it("is idempotent: already scheduled, already gone", async () => {
    const store = newStore();
    const organizationId = orgId();
    const written = await put(store, organizationId, newToken());
    await store.deleteSecret(organizationId, written.ref);
    const scheduled = secretNamed(nameOf(organizationId));
    forget();

    await store.deleteSecret(organizationId, written.ref);
    expect(secretNamed(nameOf(organizationId))).toEqual(scheduled);
    standIn.purgeDeleted();
    await store.deleteSecret(organizationId, written.ref);

    expect(standIn.requests.map((request) => [request.operation, request.error])).toEqual([
      ["DeleteSecret", "InvalidRequestException"],
      ["DeleteSecret", "ResourceNotFoundException"],
    ]);
  });

  it("reports what stops it, and refuses another organisation's reference without a request", async () => {
    const store = newStore();
    const organizationId = orgId();
    const token = newToken();
    const written = await put(store, organizationId, token);
    standIn.injectFault({ operation: "DeleteSecret", error: "AccessDeniedException", times: 1 });
    const error = await expectStoreError(store.deleteSecret(organizationId, written.ref), "access_denied", token);
    expect(error.message).toContain("secretsmanager:DeleteSecret");

    forget();
    await expect(store.deleteSecret(orgId(), written.ref)).rejects.toThrow(TypeError);
    expect(standIn.requests).toEqual([]);
    expect(secretNamed(nameOf(organizationId)).deletedDate).toBeUndefined();
  });
});

describe("restoreCurrent", () => {
  it("answers current, with one DescribeSecret, when the recorded version is current", async () => {
    const store = newStore();
    const organizationId = orgId();
    const recorded = await put(store, organizationId, newToken());
    forget();

    expect(await store.restoreCurrent(organizationId, recorded)).toBe("current");
    expect(operations()).toEqual(["DescribeSecret"]);
  });

  it("makes the recorded version current again after a write nothing recorded", async () => {
    const store = newStore();
    const organizationId = orgId();
    const token = newToken();
    const recorded = await put(store, organizationId, token);
    const unrecorded = await put(store, organizationId, newToken(), recorded);

    expect(await store.restoreCurrent(organizationId, recorded)).toBe("restored");

    // The unrecorded version keeps no label: no token nobody recorded stays a usable version.
    expect(stagesOf(secretNamed(nameOf(organizationId)))).toEqual({ [recorded.version]: ["AWSCURRENT"], [unrecorded.version]: [] });
    expect(await store.read(organizationId, recorded)).toBe(token);
    expect(await store.restoreCurrent(organizationId, recorded)).toBe("current");
  });

  it("brings back a recorded secret that was scheduled for deletion behind the record's back", async () => {
    const store = newStore();
    const organizationId = orgId();
    const token = newToken();
    const recorded = await put(store, organizationId, token);
    await store.deleteSecret(organizationId, recorded.ref);

    expect(await store.restoreCurrent(organizationId, recorded)).toBe("restored");

    expect(secretNamed(nameOf(organizationId)).deletedDate).toBeUndefined();
    expect(await store.read(organizationId, recorded)).toBe(token);
  });

  it("reports not_found when the secret is gone or no longer has that version, and misconfigured for a local reference", async () => {
    const store = newStore();
    const organizationId = orgId();
    const token = newToken();
    const recorded = await put(store, organizationId, token);
    await expectStoreError(store.restoreCurrent(organizationId, { ref: recorded.ref, version: randomUUID() }), "not_found", token);

    await store.deleteSecret(organizationId, recorded.ref);
    standIn.purgeDeleted();
    await expectStoreError(store.restoreCurrent(organizationId, recorded), "not_found", token);
    await expectStoreError(
      store.restoreCurrent(organizationId, { ref: `local:${nameOf(organizationId)}`, version: recorded.version }),
      "misconfigured",
      token,
    );
  });
});

describe("list", () => {
  it("finds the app's secrets by name under the prefix, including those scheduled for deletion, and nothing else", async () => {
    const store = newStore();
    const live = [orgId(), orgId(), orgId()];
    const refs = new Map<string, string>();
    for (const organizationId of live) refs.set(organizationId, (await put(store, organizationId, newToken())).ref);
    const deleted = orgId();
    const gone = await put(store, deleted, newToken());
    await store.deleteSecret(deleted, gone.ref);
    await put(newStore({ prefix: "other-app" }), orgId(), newToken());
    await put(newStore({ prefix: `${PREFIX}ing` }), orgId(), newToken());
    await put(newStore({ prefix: `${PREFIX}/team` }), orgId(), newToken());
    await createRaw([`${PREFIX}/${orgId()}/some-other-secret`, `${PREFIX}/not.an.org/buildkite-api-token`, `${PREFIX}/buildkite-api-token`, `${PREFIX}-${orgId()}`]);
    forget();

    const listed = await store.list();

    // One page. (Only ListSecrets counts: a previous test's write retried by the SDK may still arrive.)
    expect(operations().filter((operation) => operation === "ListSecrets")).toEqual(["ListSecrets"]);
    const expected = [
      ...live.map((organizationId) => ({ organizationId, ref: refs.get(organizationId)!, deleted: false })),
      { organizationId: deleted, ref: gone.ref, deleted: true },
    ];
    const byOrganization = (a: { organizationId: string }, b: { organizationId: string }) => a.organizationId.localeCompare(b.organizationId);
    expect([...listed].sort(byOrganization)).toEqual(expected.sort(byOrganization));
  });

  it("asks the service for its own prefix only, so other secrets cost no extra pages", async () => {
    const store = newStore();
    const ours = [orgId(), orgId()];
    for (const organizationId of ours) await put(store, organizationId, newToken());
    await createRaw(Array.from({ length: 150 }, (_, index) => `unrelated/app-${index}/buildkite-api-token`));
    forget();

    expect((await store.list()).map((entry) => entry.organizationId).sort()).toEqual(ours.sort());
    // One page. (Only ListSecrets counts: a previous test's write retried by the SDK may still arrive.)
    expect(operations().filter((operation) => operation === "ListSecrets")).toEqual(["ListSecrets"]);
  });

  it("pages past 100 secrets", async () => {
    const organizations = Array.from({ length: 130 }, () => orgId());
    await createRaw(organizations.map(nameOf));
    const client = rawClient();
    await client.send(new DeleteSecretCommand({ SecretId: nameOf(organizations[117]!), RecoveryWindowInDays: 7 }));
    client.destroy();
    forget();

    const listed = await newStore().list();

    expect(operations().filter((operation) => operation === "ListSecrets")).toEqual(["ListSecrets", "ListSecrets"]);
    expect(listed).toHaveLength(130);
    expect(new Set(listed.map((entry) => entry.organizationId))).toEqual(new Set(organizations));
    expect(listed.filter((entry) => entry.deleted).map((entry) => entry.organizationId)).toEqual([organizations[117]]);
    for (const entry of listed) expect(entry.ref).toMatch(new RegExp(`^arn:aws:secretsmanager:.+:secret:${nameOf(entry.organizationId)}-[A-Za-z0-9]{6}$`));
  });

  it("is empty when there is nothing under the prefix, and reports what stops it", async () => {
    expect(await newStore().list()).toEqual([]);
    standIn.injectFault({ operation: "ListSecrets", error: "AccessDeniedException" });
    const error = await expectStoreError(newStore().list(), "access_denied", "bkua_");
    expect(error.message).toContain("secretsmanager:ListSecrets");
  });
});

describe("the stand-in", () => {
  it("exposes faults, stored secrets and reset over its HTTP control API", async () => {
    const store = newStore();
    const token = newToken();
    const organizationId = orgId();
    const written = await put(store, organizationId, token);

    const listed = (await (await fetch(`${standIn.url}/__stand-in/secrets`)).json()) as { secrets: Array<{ arn: string; versions: Array<{ value: string }> }> };
    expect(listed.secrets).toEqual([expect.objectContaining({ arn: written.ref, versions: [expect.objectContaining({ value: token })] })]);

    const injected = await fetch(`${standIn.url}/__stand-in/faults`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ operation: "GetSecretValue", error: "AccessDeniedException", times: 1 }),
    });
    expect(injected.status).toBe(201);
    await expectStoreError(store.read(organizationId, written), "access_denied", token);
    expect(await store.read(organizationId, written)).toBe(token);

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
