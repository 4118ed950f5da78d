import { randomUUID } from "node:crypto";
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  paginateListSecrets,
  PutSecretValueCommand,
  RestoreSecretCommand,
  SecretsManagerClient,
  type ListSecretsCommandInput,
  type SecretListEntry,
} from "@aws-sdk/client-secrets-manager";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { stubStandInCredentials } from "../support/secret-backends";
import { startSecretsManagerStandIn, type SecretsManagerStandIn } from "../support/secrets-manager-stand-in";

// The real SDK against the Secrets Manager stand-in: ListSecrets (filters, pagination, order, planned deletions),
// the end of recovery windows, delete / restore / create-over-a-deleted-name, deprecated versions, and latency.
// Region, credentials and endpoint reach the SDK only through the standard environment variables.

const KMS_KEY_ID = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const SECRET_VALUE = "bkua_value_that_must_never_be_listed_0123456789";

let standIn: SecretsManagerStandIn;
let sm: SecretsManagerClient;

beforeAll(async () => {
  standIn = await startSecretsManagerStandIn();
});
afterAll(async () => {
  await standIn.close();
});

beforeEach(() => {
  standIn.reset();
  standIn.setLatency(0);
  stubStandInCredentials(standIn);
  // One attempt: what the stand-in answers is what the test sees.
  sm = new SecretsManagerClient({ maxAttempts: 1 });
});
afterEach(() => {
  sm.destroy();
  vi.unstubAllEnvs();
});

async function create(name: string, extra: { description?: string; tags?: Record<string, string>; kmsKeyId?: string } = {}) {
  return sm.send(
    new CreateSecretCommand({
      Name: name,
      SecretString: SECRET_VALUE,
      ClientRequestToken: randomUUID(),
      Description: extra.description,
      KmsKeyId: extra.kmsKeyId,
      Tags: Object.entries(extra.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
    }),
  );
}

async function names(input: ListSecretsCommandInput = {}): Promise<string[]> {
  const listed: string[] = [];
  for await (const page of paginateListSecrets({ client: sm }, input)) listed.push(...(page.SecretList ?? []).map((entry) => entry.Name!));
  return listed;
}

async function serviceError(promise: Promise<unknown>): Promise<{ name: string; message: string }> {
  const error = await promise.then(
    () => new Error("expected the call to fail"),
    (failure: unknown) => failure as Error,
  );
  return { name: error.name, message: error.message };
}

describe("ListSecrets", () => {
  it("lists each secret's metadata with the SDK's field names, and never a value", async () => {
    const created = await create("gitar/org-1/buildkite-api-token", {
      description: "Buildkite API token",
      kmsKeyId: KMS_KEY_ID,
      tags: { app: "gitar", "gitar:integration": "buildkite" },
    });
    await sm.send(new GetSecretValueCommand({ SecretId: created.ARN }));

    const response = await sm.send(new ListSecretsCommand({}));
    expect(JSON.stringify(response)).not.toContain(SECRET_VALUE);
    expect(response.NextToken).toBeUndefined();
    const [entry] = response.SecretList as [SecretListEntry];
    expect(entry).toMatchObject({
      ARN: created.ARN,
      Name: "gitar/org-1/buildkite-api-token",
      Description: "Buildkite API token",
      KmsKeyId: KMS_KEY_ID,
      Tags: [
        { Key: "app", Value: "gitar" },
        { Key: "gitar:integration", Value: "buildkite" },
      ],
      SecretVersionsToStages: { [created.VersionId!]: ["AWSCURRENT"] },
    });
    expect(entry.CreatedDate).toBeInstanceOf(Date);
    expect(entry.LastChangedDate).toBeInstanceOf(Date);
    // The service keeps the day of the last access, not the moment.
    expect(entry.LastAccessedDate?.toISOString()).toMatch(/T00:00:00\.000Z$/);
    expect(entry.DeletedDate).toBeUndefined();
  });

  it("filters by name prefix (case-sensitive), tag key, tag value, description and all", async () => {
    await create("gitar/org-1/buildkite-api-token", { description: "Buildkite API token", tags: { app: "gitar", team: "platform" } });
    await create("gitar/org-2/buildkite-api-token", { tags: { app: "gitar", team: "web" } });
    await create("other/db-password", { description: "Database password", tags: { owner: "dba" } });

    expect(await names({ Filters: [{ Key: "name", Values: ["gitar/"] }] })).toEqual(["gitar/org-1/buildkite-api-token", "gitar/org-2/buildkite-api-token"]);
    expect(await names({ Filters: [{ Key: "name", Values: ["Gitar/"] }] })).toEqual([]);
    expect(await names({ Filters: [{ Key: "name", Values: ["org-1"] }] })).toEqual([]);
    expect(await names({ Filters: [{ Key: "tag-key", Values: ["own"] }] })).toEqual(["other/db-password"]);
    expect(await names({ Filters: [{ Key: "tag-value", Values: ["web", "dba"] }] })).toEqual(["gitar/org-2/buildkite-api-token", "other/db-password"]);
    expect(await names({ Filters: [{ Key: "description", Values: ["database"] }] })).toEqual(["other/db-password"]);
    expect(await names({ Filters: [{ Key: "all", Values: ["PLATFORM"] }] })).toEqual(["gitar/org-1/buildkite-api-token"]);
    expect(await names({ Filters: [{ Key: "all", Values: ["db pass"] }] })).toEqual(["other/db-password"]);
    expect(await names({ Filters: [{ Key: "primary-region", Values: ["eu-west-1"] }] })).toEqual([]);
  });

  it("ANDs filters, ORs values, and excludes with a leading !", async () => {
    await create("gitar/a", { tags: { app: "gitar", env: "prod" } });
    await create("gitar/b", { tags: { app: "gitar", env: "staging" } });
    await create("legacy/c", { tags: { app: "legacy", env: "prod" } });

    expect(await names({ Filters: [{ Key: "tag-value", Values: ["gitar"] }, { Key: "tag-value", Values: ["prod"] }] })).toEqual(["gitar/a"]);
    expect(await names({ Filters: [{ Key: "name", Values: ["!gitar/"] }] })).toEqual(["legacy/c"]);
    expect(await names({ Filters: [{ Key: "name", Values: ["gitar/", "!gitar/b"] }] })).toEqual(["gitar/a"]);
  });

  it("leaves out secrets scheduled for deletion unless IncludePlannedDeletion, which shows DeletedDate", async () => {
    await create("gitar/keep");
    const doomed = await create("gitar/doomed");
    const deleted = await sm.send(new DeleteSecretCommand({ SecretId: doomed.ARN, RecoveryWindowInDays: 7 }));

    expect(await names()).toEqual(["gitar/keep"]);
    expect(await names({ IncludePlannedDeletion: false })).toEqual(["gitar/keep"]);
    const all = await sm.send(new ListSecretsCommand({ IncludePlannedDeletion: true }));
    expect(all.SecretList?.map((entry) => entry.Name)).toEqual(["gitar/keep", "gitar/doomed"]);
    const scheduled = all.SecretList?.[1];
    expect(scheduled?.DeletedDate).toBeInstanceOf(Date);
    // DeletedDate is when DeleteSecret ran; the recovery window ends a week later.
    expect(deleted.DeletionDate!.getTime() - scheduled!.DeletedDate!.getTime()).toBeGreaterThan(7 * 86_400_000 - 5_000);
    expect(all.SecretList?.[0]?.DeletedDate).toBeUndefined();
  });

  it("pages with MaxResults and NextToken, oldest first unless SortOrder desc", async () => {
    for (let i = 0; i < 7; i += 1) await create(`gitar/secret-${i}`);
    const first = await sm.send(new ListSecretsCommand({ MaxResults: 3 }));
    expect(first.SecretList?.map((entry) => entry.Name)).toEqual(["gitar/secret-0", "gitar/secret-1", "gitar/secret-2"]);
    expect(first.NextToken).toEqual(expect.any(String));
    const second = await sm.send(new ListSecretsCommand({ MaxResults: 3, NextToken: first.NextToken }));
    expect(second.SecretList?.map((entry) => entry.Name)).toEqual(["gitar/secret-3", "gitar/secret-4", "gitar/secret-5"]);
    const third = await sm.send(new ListSecretsCommand({ MaxResults: 3, NextToken: second.NextToken }));
    expect(third.SecretList?.map((entry) => entry.Name)).toEqual(["gitar/secret-6"]);
    expect(third.NextToken).toBeUndefined();

    expect(await names({ MaxResults: 2, SortOrder: "desc" })).toEqual([6, 5, 4, 3, 2, 1, 0].map((i) => `gitar/secret-${i}`));
    expect(await names({ MaxResults: 100, SortBy: "name", SortOrder: "desc", Filters: [{ Key: "name", Values: ["gitar/secret-1", "gitar/secret-2"] }] })).toEqual([
      "gitar/secret-2",
      "gitar/secret-1",
    ]);
  });

  it("rejects what the service rejects", async () => {
    expect(await serviceError(sm.send(new ListSecretsCommand({ MaxResults: 0 })))).toMatchObject({
      name: "ValidationException",
      message: expect.stringContaining("greater than or equal to 1"),
    });
    expect((await serviceError(sm.send(new ListSecretsCommand({ MaxResults: 101 })))).name).toBe("ValidationException");
    expect((await serviceError(sm.send(new ListSecretsCommand({ NextToken: "not-a-token" })))).name).toBe("InvalidNextTokenException");
    const badKey = { Filters: [{ Key: "colour", Values: ["red"] }] } as unknown as ListSecretsCommandInput;
    expect((await serviceError(sm.send(new ListSecretsCommand(badKey))))).toMatchObject({ name: "ValidationException", message: expect.stringContaining("filters.1.member.key") });
    expect((await serviceError(sm.send(new ListSecretsCommand({ Filters: [{ Key: "name" }] }))))).toMatchObject({ name: "InvalidParameterException" });
    expect((await serviceError(sm.send(new ListSecretsCommand({ Filters: [{ Key: "name", Values: ["semi;colon"] }] })))).name).toBe("ValidationException");
    const tooMany = Array.from({ length: 11 }, () => ({ Key: "name" as const, Values: ["a"] }));
    expect((await serviceError(sm.send(new ListSecretsCommand({ Filters: tooMany }))))).toMatchObject({ name: "ValidationException" });
  });
});

describe("deletion and recovery", () => {
  it("purgeDeleted ends recovery windows: the secret is gone and its name can be created again", async () => {
    const old = await create("gitar/org-9/buildkite-api-token");
    await create("gitar/live");
    await sm.send(new DeleteSecretCommand({ SecretId: old.ARN, RecoveryWindowInDays: 7 }));

    // During the window the name is taken.
    const clash = await serviceError(create("gitar/org-9/buildkite-api-token"));
    expect(clash).toMatchObject({ name: "InvalidRequestException", message: expect.stringContaining("scheduled for deletion") });

    const purged = await fetch(`${standIn.url}/__stand-in/purge-deleted`, { method: "POST" });
    expect(await purged.json()).toEqual({ purged: ["gitar/org-9/buildkite-api-token"] });
    expect(standIn.purgeDeleted()).toEqual([]);

    expect((await serviceError(sm.send(new DescribeSecretCommand({ SecretId: old.ARN }))))).toMatchObject({ name: "ResourceNotFoundException" });
    expect(await names({ IncludePlannedDeletion: true })).toEqual(["gitar/live"]);
    const again = await create("gitar/org-9/buildkite-api-token");
    expect(again.ARN).not.toBe(old.ARN);
  });

  it("accepts recovery windows of 7–30 days only, and a scheduled secret cannot be scheduled again", async () => {
    const secret = await create("gitar/window");
    for (const days of [6, 31]) {
      expect(await serviceError(sm.send(new DeleteSecretCommand({ SecretId: secret.ARN, RecoveryWindowInDays: days })))).toMatchObject({
        name: "InvalidParameterException",
      });
    }
    const deleted = await sm.send(new DeleteSecretCommand({ SecretId: secret.ARN, RecoveryWindowInDays: 30 }));
    expect(deleted.DeletionDate!.getTime() - Date.now()).toBeGreaterThan(30 * 86_400_000 - 5_000);
    expect((await serviceError(sm.send(new DeleteSecretCommand({ SecretId: secret.ARN, RecoveryWindowInDays: 7 })))).name).toBe("InvalidRequestException");
    // Forcing still works on a scheduled secret, and removes it at once.
    await sm.send(new DeleteSecretCommand({ SecretId: secret.ARN, ForceDeleteWithoutRecovery: true }));
    expect(standIn.secrets()).toEqual([]);
  });

  it("refuses to read a scheduled secret until RestoreSecret, which clears DeletedDate", async () => {
    const secret = await create("gitar/restore-me");
    await sm.send(new DeleteSecretCommand({ SecretId: secret.ARN }));
    expect((await serviceError(sm.send(new GetSecretValueCommand({ SecretId: secret.ARN })))).name).toBe("InvalidRequestException");
    const restored = await sm.send(new RestoreSecretCommand({ SecretId: secret.ARN }));
    expect(restored).toMatchObject({ ARN: secret.ARN, Name: "gitar/restore-me" });
    expect((await sm.send(new GetSecretValueCommand({ SecretId: secret.ARN }))).SecretString).toBe(SECRET_VALUE);
    expect((await sm.send(new DescribeSecretCommand({ SecretId: secret.ARN }))).DeletedDate).toBeUndefined();
  });
});

describe("deprecated versions", () => {
  it("stay readable by VersionId once they lose every label, and are no longer listed", async () => {
    const secret = await create("gitar/versions");
    const v2 = await sm.send(new PutSecretValueCommand({ SecretId: secret.ARN, SecretString: "second", ClientRequestToken: randomUUID() }));
    const v3 = await sm.send(new PutSecretValueCommand({ SecretId: secret.ARN, SecretString: "third", ClientRequestToken: randomUUID() }));

    const v1 = await sm.send(new GetSecretValueCommand({ SecretId: secret.ARN, VersionId: secret.VersionId }));
    expect(v1).toMatchObject({ SecretString: SECRET_VALUE, VersionStages: [] });
    // Asked for with a label it no longer has, it is not found.
    expect((await serviceError(sm.send(new GetSecretValueCommand({ SecretId: secret.ARN, VersionId: secret.VersionId, VersionStage: "AWSPREVIOUS" })))).name).toBe(
      "ResourceNotFoundException",
    );
    const expected = { [v2.VersionId!]: ["AWSPREVIOUS"], [v3.VersionId!]: ["AWSCURRENT"] };
    expect((await sm.send(new DescribeSecretCommand({ SecretId: secret.ARN }))).VersionIdsToStages).toEqual(expected);
    expect((await sm.send(new ListSecretsCommand({}))).SecretList?.[0]?.SecretVersionsToStages).toEqual(expected);
  });
});

describe("latency", () => {
  it("delays every operation by the configured time; the control route changes it", async () => {
    standIn.setLatency(200);
    let started = performance.now();
    await sm.send(new ListSecretsCommand({}));
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);

    // Changed over the control route and seen taking effect: lower bounds only (a busy machine makes calls slower,
    // never faster, so an upper bound would fail on a timing).
    const setLatency = (ms: number) => fetch(`${standIn.url}/__stand-in/latency`, { method: "POST", body: JSON.stringify({ ms }) });
    expect(await (await setLatency(400)).json()).toEqual({ latencyMs: 400 });
    started = performance.now();
    await sm.send(new ListSecretsCommand({}));
    expect(performance.now() - started).toBeGreaterThanOrEqual(390);
    expect(await (await setLatency(0)).json()).toEqual({ latencyMs: 0 });
    expect((await fetch(`${standIn.url}/__stand-in/latency`, { method: "POST", body: JSON.stringify({ ms: "slow" }) })).status).toBe(400);
  });

  it("can be set at start, and a client that gives up during it leaves nothing done", async () => {
    const slow = await startSecretsManagerStandIn({ latencyMs: 400 });
    vi.stubEnv("AWS_ENDPOINT_URL_SECRETS_MANAGER", slow.url);
    const client = new SecretsManagerClient({ maxAttempts: 1 });
    try {
      const error = await serviceError(
        client.send(new CreateSecretCommand({ Name: "gitar/never", SecretString: "x" }), { abortSignal: AbortSignal.timeout(100) }),
      );
      expect(error.name).toMatch(/Abort/);
      // Logged on arrival; the outcome is filled in once the stand-in notices the client has gone.
      await vi.waitFor(() => expect(slow.requests).toMatchObject([{ operation: "CreateSecret", status: 0, error: "ClientClosed" }]), { timeout: 2_000 });
      expect(slow.secrets()).toEqual([]);
    } finally {
      client.destroy();
      await slow.close();
    }
  });
});
