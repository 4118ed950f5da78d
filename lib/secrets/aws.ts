import "server-only";

import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
  type DescribeSecretResponse,
} from "@aws-sdk/client-secrets-manager";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { errorName, toSecretStoreError, type Operation } from "./aws-errors";
import { assertOrganizationId, assertPrefix, assertWriteInput, secretName, SecretStoreError, type SecretRef, type SecretStore } from "./store";

export type AwsSecretStoreOptions = {
  prefix: string;
  kmsKeyId: string | undefined;
  timeoutMs: number;
};

const CURRENT = "AWSCURRENT";

/**
 * Buildkite tokens in AWS Secrets Manager, one secret per organisation. Region, credentials and endpoint come only
 * from the SDK's standard sources (AWS_REGION, the default credential chain, AWS_ENDPOINT_URL_SECRETS_MANAGER), so
 * tests against the stand-in exercise exactly the production path.
 */
export function createAwsSecretStore(options: AwsSecretStoreOptions): SecretStore {
  assertPrefix(options.prefix);
  const { prefix, kmsKeyId, timeoutMs } = options;
  const client = new SecretsManagerClient({
    // Standard retries absorb throttling and transient 5xx / network failures; what is left is mapped below.
    maxAttempts: 3,
    retryMode: "standard",
    requestHandler: new NodeHttpHandler({
      connectionTimeout: timeoutMs,
      requestTimeout: timeoutMs,
      // Without this the handler only logs a warning when requestTimeout passes and keeps waiting.
      throwOnRequestTimeout: true,
    }),
  });

  async function send<T>(operation: Operation, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw toSecretStoreError(operation, error, { prefix, timeoutMs });
    }
  }

  /** DescribeSecret, or null when there is no such secret. */
  async function describe(secretId: string): Promise<DescribeSecretResponse | null> {
    try {
      return await client.send(new DescribeSecretCommand({ SecretId: secretId }));
    } catch (error) {
      if (errorName(error) === "ResourceNotFoundException") return null;
      throw toSecretStoreError("DescribeSecret", error, { prefix, timeoutMs });
    }
  }

  async function createSecret(organizationId: string, name: string, token: string, requestToken: string) {
    try {
      const created = await client.send(
        new CreateSecretCommand({
          Name: name,
          SecretString: token,
          ClientRequestToken: requestToken,
          Description: `Buildkite API access token for Gitar organization ${organizationId}`,
          Tags: [
            { Key: "app", Value: "gitar" },
            { Key: "gitar:organization-id", Value: organizationId },
            { Key: "gitar:integration", Value: "buildkite" },
          ],
          ...(kmsKeyId ? { KmsKeyId: kmsKeyId } : {}),
        }),
      );
      return refFrom("CreateSecret", created.ARN, created.VersionId);
    } catch (error) {
      // Another writer created it between our DescribeSecret and CreateSecret: write a version onto theirs instead.
      if (errorName(error) === "ResourceExistsException") return null;
      throw toSecretStoreError("CreateSecret", error, { prefix, timeoutMs });
    }
  }

  async function putOnExisting(secret: DescribeSecretResponse, token: string, requestToken: string): Promise<SecretRef> {
    const arn = requireArn("DescribeSecret", secret.ARN);
    if (secret.DeletedDate) {
      // A secret scheduled for deletion refuses new versions until it is restored.
      await send("RestoreSecret", () => client.send(new RestoreSecretCommand({ SecretId: arn })));
    }
    const put = await send("PutSecretValue", () =>
      client.send(new PutSecretValueCommand({ SecretId: arn, SecretString: token, ClientRequestToken: requestToken })),
    );
    const written = refFrom("PutSecretValue", put.ARN ?? arn, put.VersionId);
    if (!put.VersionStages?.includes(CURRENT)) {
      // Secrets Manager ignores a retried request whose version already exists, even when a rollback has since moved
      // AWSCURRENT off it; the contract is "new current version", so move the label back.
      await moveCurrent(written.ref, written.version);
    }
    return written;
  }

  async function moveCurrent(arn: string, versionId: string) {
    const secret = await describe(arn);
    if (!secret) throw new SecretStoreError("not_found", "The secret disappeared from Secrets Manager while it was being written");
    const holder = currentVersion(secret);
    if (holder === versionId) return;
    await send("UpdateSecretVersionStage", () =>
      client.send(
        new UpdateSecretVersionStageCommand({
          SecretId: arn,
          VersionStage: CURRENT,
          MoveToVersionId: versionId,
          ...(holder ? { RemoveFromVersionId: holder } : {}),
        }),
      ),
    );
  }

  const store: SecretStore = {
    backend: "aws",

    async writeBuildkiteToken(organizationId, token, { requestToken }) {
      const name = secretName(prefix, organizationId);
      assertWriteInput(token, requestToken);

      const existing = await describe(name);
      if (existing) return putOnExisting(existing, token, requestToken);

      const created = await createSecret(organizationId, name, token, requestToken);
      if (created) return created;
      const raced = await describe(name);
      if (!raced) throw new SecretStoreError("unavailable", "Secrets Manager reported the secret as existing, then as missing; try again");
      return putOnExisting(raced, token, requestToken);
    },

    async read(ref) {
      if (!ref.ref.startsWith("arn:")) {
        throw new SecretStoreError("misconfigured", "This secret reference was not written by the AWS Secrets Manager backend");
      }
      let value: { SecretString?: string | undefined; VersionId?: string | undefined };
      try {
        value = await client.send(new GetSecretValueCommand({ SecretId: ref.ref, VersionId: ref.version }));
      } catch (error) {
        // GetSecretValue answers InvalidRequestException for a secret scheduled for deletion: gone, as far as we care.
        if (errorName(error) === "InvalidRequestException") {
          throw new SecretStoreError("not_found", "The secret is scheduled for deletion in Secrets Manager", { awsErrorName: "InvalidRequestException" });
        }
        throw toSecretStoreError("GetSecretValue", error, { prefix, timeoutMs });
      }
      if (typeof value.SecretString !== "string" || (value.VersionId !== undefined && value.VersionId !== ref.version)) {
        throw new SecretStoreError("corrupt", "Secrets Manager returned a secret version in an unexpected shape");
      }
      return value.SecretString;
    },

    async rollback(organizationId, written, previous) {
      assertOrganizationId(organizationId);
      const name = secretName(prefix, organizationId);
      if (!arnNamesSecret(written.ref, name)) {
        throw new TypeError("rollback was given a secret reference that does not belong to this organization");
      }
      const secret = await describe(written.ref);
      if (!secret || secret.DeletedDate) return;
      const holder = currentVersion(secret);

      if (previous && previous.ref === written.ref) {
        // Only undo our own write: if another connect has written since, its version stays current.
        if (holder === previous.version || holder !== written.version) return;
        // RemoveFromVersionId doubles as a compare-and-swap: the service refuses if AWSCURRENT moved meanwhile.
        await send("UpdateSecretVersionStage", () =>
          client.send(
            new UpdateSecretVersionStageCommand({
              SecretId: written.ref,
              VersionStage: CURRENT,
              MoveToVersionId: previous.version,
              RemoveFromVersionId: written.version,
            }),
          ),
        );
        return;
      }

      // No previous version on this secret (first connect, or the old one lived elsewhere): remove ours, unless
      // someone else has written since.
      if (holder !== undefined && holder !== written.version) return;
      try {
        await client.send(new DeleteSecretCommand({ SecretId: written.ref, RecoveryWindowInDays: 7 }));
      } catch (error) {
        const awsName = errorName(error);
        // Already gone or already scheduled for deletion: the rollback has happened.
        if (awsName === "ResourceNotFoundException" || awsName === "InvalidRequestException") return;
        throw toSecretStoreError("DeleteSecret", error, { prefix, timeoutMs });
      }
    },

    async abandonWrite(organizationId, requestToken, previous) {
      assertOrganizationId(organizationId);
      const secret = await describe(secretName(prefix, organizationId));
      // Secrets Manager makes the ClientRequestToken the new version's id, so the attempt is recognisable.
      if (!secret?.ARN || secret.DeletedDate || currentVersion(secret) !== requestToken) return;
      await store.rollback(organizationId, { ref: secret.ARN, version: requestToken }, previous);
    },
  };
  return store;
}

function currentVersion(secret: DescribeSecretResponse): string | undefined {
  return Object.entries(secret.VersionIdsToStages ?? {}).find(([, stages]) => stages.includes(CURRENT))?.[0];
}

function requireArn(operation: Operation, arn: string | undefined): string {
  if (!arn) throw new SecretStoreError("unavailable", `Secrets Manager's ${operation} response had no ARN`, { retryable: false });
  return arn;
}

function refFrom(operation: Operation, arn: string | undefined, versionId: string | undefined): SecretRef {
  if (!versionId) throw new SecretStoreError("unavailable", `Secrets Manager's ${operation} response had no VersionId`, { retryable: false });
  return { ref: requireArn(operation, arn), version: versionId };
}

/** `arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 chars>` names exactly `name`. */
function arnNamesSecret(arn: string, name: string): boolean {
  const match = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:(.+)-[A-Za-z0-9]{6}$/.exec(arn);
  return match?.[1] === name;
}
