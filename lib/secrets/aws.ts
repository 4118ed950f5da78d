import "server-only";

import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
  type DescribeSecretResponse,
} from "@aws-sdk/client-secrets-manager";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { errorName, toSecretStoreError, type Operation } from "./aws-errors";
import {
  assertOrganizationId,
  assertPrefix,
  assertWriteInput,
  organizationOfSecretName,
  RECOVERY_DAYS,
  secretName,
  SecretStoreError,
  type SecretRef,
  type SecretStore,
  type StoredSecret,
} from "./store";

export type AwsSecretStoreOptions = {
  prefix: string;
  kmsKeyId: string | undefined;
  timeoutMs: number;
  /** Days a deleted secret stays restorable (Secrets Manager's RecoveryWindowInDays, 7-30). */
  recoveryDays?: number;
};

const CURRENT = "AWSCURRENT";
const PREVIOUS = "AWSPREVIOUS";

/**
 * Buildkite tokens in AWS Secrets Manager, one secret per organisation. Region, credentials and endpoint come only
 * from the SDK's standard sources (AWS_REGION, the default credential chain, AWS_ENDPOINT_URL_SECRETS_MANAGER), so
 * tests against the stand-in exercise exactly the production path.
 */
export function createAwsSecretStore(options: AwsSecretStoreOptions): SecretStore {
  assertPrefix(options.prefix);
  const { prefix, kmsKeyId, timeoutMs } = options;
  const recoveryDays = options.recoveryDays ?? RECOVERY_DAYS.default;
  const sdkClient = new SecretsManagerClient({
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
  const fail = (operation: Operation, error: unknown) => toSecretStoreError(operation, error, { prefix, timeoutMs });
  return storeWith(undefined);

  /** The store, its every call aborted (and answered `timeout`) once `signal` aborts. One SDK client serves all. */
  function storeWith(signal: AbortSignal | undefined): SecretStore {
    const client = abortingWith(sdkClient, signal);

    async function send<T>(operation: Operation, run: () => Promise<T>): Promise<T> {
      try {
        return await run();
      } catch (error) {
        throw fail(operation, error);
      }
    }

    /** DescribeSecret, or null when there is no such secret. */
    async function describe(secretId: string): Promise<DescribeSecretResponse | null> {
      try {
        return await client.send(new DescribeSecretCommand({ SecretId: secretId }));
      } catch (error) {
        if (errorName(error) === "ResourceNotFoundException") return null;
        throw fail("DescribeSecret", error);
      }
    }

    /** CreateSecret, or null when the name is taken (live, or scheduled for deletion): write onto that one instead. */
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
        const name = errorName(error);
        if (name === "ResourceExistsException" || name === "InvalidRequestException") return null;
        throw fail("CreateSecret", error);
      }
    }

    /** PutSecretValue as the new current version (moving the label back if a retried request found its version). */
    async function putValue(arn: string, token: string, requestToken: string): Promise<SecretRef> {
      const put = await client.send(new PutSecretValueCommand({ SecretId: arn, SecretString: token, ClientRequestToken: requestToken }));
      const written = refFrom("PutSecretValue", put.ARN ?? arn, put.VersionId);
      if (!put.VersionStages?.includes(CURRENT)) {
        // Secrets Manager ignores a retried request whose version already exists, even when an undo has since moved
        // AWSCURRENT off it; the contract is "new current version", so move the label back.
        await moveStage(written.ref, CURRENT, written.version);
      }
      return written;
    }

    async function putOnExisting(secret: DescribeSecretResponse, token: string, requestToken: string, recorded: boolean): Promise<SecretRef> {
      const arn = requireArn("DescribeSecret", secret.ARN);
      const restored = Boolean(secret.DeletedDate);
      if (restored) {
        // A secret scheduled for deletion (a disconnect moments ago) refuses new versions until it is restored.
        await send("RestoreSecret", () => client.send(new RestoreSecretCommand({ SecretId: arn })));
      }
      const written = await send("PutSecretValue", () => putValue(arn, token, requestToken));
      if (restored && !recorded) {
        // The disconnected token came back with the restore, now labelled AWSPREVIOUS: take the label off so nothing
        // treats it as a usable version (Secrets Manager removes unlabelled versions in time).
        const holder = await describe(arn).then((described) => (described ? versionWith(described, PREVIOUS) : undefined));
        if (holder && holder !== written.version) {
          await send("UpdateSecretVersionStage", () =>
            client.send(new UpdateSecretVersionStageCommand({ SecretId: arn, VersionStage: PREVIOUS, RemoveFromVersionId: holder })),
          );
        }
      }
      return written;
    }

    async function moveStage(arn: string, stage: string, versionId: string) {
      const secret = await describe(arn);
      if (!secret) throw new SecretStoreError("not_found", "The secret disappeared from Secrets Manager while it was being written");
      const holder = versionWith(secret, stage);
      if (holder === versionId) return;
      await send("UpdateSecretVersionStage", () =>
        client.send(
          new UpdateSecretVersionStageCommand({
            SecretId: arn,
            VersionStage: stage,
            MoveToVersionId: versionId,
            ...(holder ? { RemoveFromVersionId: holder } : {}),
          }),
        ),
      );
    }

    function assertOwnRef(organizationId: string, arn: string, what: string) {
      if (!arnNamesSecret(arn, secretName(prefix, organizationId))) {
        throw new TypeError(`${what} was given a secret reference that does not belong to this organization`);
      }
    }

    const store: SecretStore = {
      backend: "aws",

      async write(organizationId, token, { requestToken, previous }) {
        const name = secretName(prefix, organizationId);
        assertWriteInput(token, requestToken);

        // The usual case, a known secret: one call, no lookup first.
        if (previous && arnNamesSecret(previous.ref, name)) {
          try {
            return await putValue(previous.ref, token, requestToken);
          } catch (error) {
            // Gone, or scheduled for deletion, behind our back: fall through to the general path, which handles both.
            const awsName = errorName(error);
            if (awsName !== "ResourceNotFoundException" && awsName !== "InvalidRequestException") throw fail("PutSecretValue", error);
          }
        }

        const created = await createSecret(organizationId, name, token, requestToken);
        if (created) return created;
        const existing = await describe(name);
        if (!existing) throw new SecretStoreError("unavailable", "Secrets Manager reported the secret as existing, then as missing; try again");
        return putOnExisting(existing, token, requestToken, previous !== null);
      },

      async read(organizationId, ref) {
        if (!ref.ref.startsWith("arn:")) {
          throw new SecretStoreError("misconfigured", "This secret reference was not written by the AWS Secrets Manager backend");
        }
        if (!arnNamesSecret(ref.ref, secretName(prefix, organizationId))) {
          throw new SecretStoreError("misconfigured", "This secret reference is not this organization's secret");
        }
        let value: { SecretString?: string | undefined; VersionId?: string | undefined };
        try {
          value = await client.send(new GetSecretValueCommand({ SecretId: ref.ref, VersionId: ref.version }));
        } catch (error) {
          // GetSecretValue answers InvalidRequestException for a secret scheduled for deletion: gone, as far as we care.
          if (errorName(error) === "InvalidRequestException") {
            throw new SecretStoreError("not_found", "The secret is scheduled for deletion in Secrets Manager", { awsErrorName: "InvalidRequestException" });
          }
          throw fail("GetSecretValue", error);
        }
        if (typeof value.SecretString !== "string" || (value.VersionId !== undefined && value.VersionId !== ref.version)) {
          throw new SecretStoreError("corrupt", "Secrets Manager returned a secret version in an unexpected shape");
        }
        return value.SecretString;
      },

      async undoWrite(organizationId, written, previous) {
        assertOrganizationId(organizationId);
        assertOwnRef(organizationId, written.ref, "undoWrite");
        const secret = await describe(written.ref);
        if (!secret || secret.DeletedDate) return;
        const holder = versionWith(secret, CURRENT);
        // Only undo our own write, and only while it is current.
        if (holder !== written.version) return;

        if (previous && previous.ref === written.ref) {
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
        // No recorded version on this secret (a first connect): nothing refers to it, so it goes.
        await store.deleteSecret(organizationId, written.ref);
      },

      async abandonWrite(organizationId, requestToken, previous) {
        assertOrganizationId(organizationId);
        const secret = await describe(secretName(prefix, organizationId));
        // Secrets Manager makes the ClientRequestToken the new version's id, so the attempt is recognisable.
        if (!secret?.ARN || secret.DeletedDate || versionWith(secret, CURRENT) !== requestToken) return;
        await store.undoWrite(organizationId, { ref: secret.ARN, version: requestToken }, previous);
      },

      async deleteSecret(organizationId, ref) {
        assertOrganizationId(organizationId);
        assertOwnRef(organizationId, ref, "deleteSecret");
        try {
          await client.send(new DeleteSecretCommand({ SecretId: ref, RecoveryWindowInDays: recoveryDays }));
        } catch (error) {
          const awsName = errorName(error);
          // Already gone, or already scheduled for deletion: done.
          if (awsName === "ResourceNotFoundException" || awsName === "InvalidRequestException") return;
          throw fail("DeleteSecret", error);
        }
      },

      async restoreCurrent(organizationId, recorded) {
        assertOrganizationId(organizationId);
        if (!recorded.ref.startsWith("arn:")) {
          throw new SecretStoreError("misconfigured", "The record points at a secret the local store wrote; SECRETS_BACKEND was changed since");
        }
        assertOwnRef(organizationId, recorded.ref, "restoreCurrent");
        const secret = await describe(recorded.ref);
        if (!secret) throw new SecretStoreError("not_found", "The recorded secret is gone from Secrets Manager");
        if (secret.DeletedDate) {
          // Deleted behind the record's back, and still in its recovery window: nothing is lost yet.
          await send("RestoreSecret", () => client.send(new RestoreSecretCommand({ SecretId: recorded.ref })));
        }
        const holder = versionWith(secret, CURRENT);
        if (holder === recorded.version) return secret.DeletedDate ? "restored" : "current";
        try {
          await client.send(
            new UpdateSecretVersionStageCommand({
              SecretId: recorded.ref,
              VersionStage: CURRENT,
              MoveToVersionId: recorded.version,
              ...(holder ? { RemoveFromVersionId: holder } : {}),
            }),
          );
        } catch (error) {
          if (errorName(error) === "ResourceNotFoundException") {
            throw new SecretStoreError("not_found", "The recorded secret version is gone from Secrets Manager", { awsErrorName: "ResourceNotFoundException" });
          }
          throw fail("UpdateSecretVersionStage", error);
        }
        if (holder) {
          // The version that was current was never recorded (its writer died before committing): Secrets Manager just
          // labelled it AWSPREVIOUS; take that off, so no unrecorded token stays a labelled version.
          await send("UpdateSecretVersionStage", () =>
            client.send(new UpdateSecretVersionStageCommand({ SecretId: recorded.ref, VersionStage: PREVIOUS, RemoveFromVersionId: holder })),
          );
        }
        return "restored";
      },

      async list() {
        const found: StoredSecret[] = [];
        let nextToken: string | undefined;
        do {
          const page = await send("ListSecrets", () =>
            client.send(
              new ListSecretsCommand({
                // A name filter matches by prefix; our own names also carry our tags, but names are what we own.
                Filters: [{ Key: "name", Values: [`${prefix}/`] }],
                IncludePlannedDeletion: true,
                MaxResults: 100,
                NextToken: nextToken,
              }),
            ),
          );
          for (const entry of page.SecretList ?? []) {
            const organizationId = entry.Name ? organizationOfSecretName(prefix, entry.Name) : null;
            if (organizationId && entry.ARN) found.push({ organizationId, ref: entry.ARN, deleted: Boolean(entry.DeletedDate) });
          }
          nextToken = page.NextToken;
        } while (nextToken);
        return found;
      },

      // Secrets Manager ends recovery windows itself.
      purgeDeleted: async () => 0,

      withSignal: (next) => storeWith(next),
    };
    return store;
  }
}

/** The client's `send`, with the signal handed to every request (the SDK's own way to cancel a call). */
function abortingWith(client: SecretsManagerClient, signal: AbortSignal | undefined): Pick<SecretsManagerClient, "send"> {
  if (!signal) return client;
  const send = (command: never) => client.send(command, { abortSignal: signal });
  return { send: send as unknown as SecretsManagerClient["send"] };
}

function versionWith(secret: DescribeSecretResponse, stage: string): string | undefined {
  return Object.entries(secret.VersionIdsToStages ?? {}).find(([, stages]) => stages.includes(stage))?.[0];
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
