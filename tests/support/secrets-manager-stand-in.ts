/**
 * A local stand-in for AWS Secrets Manager on a real port, speaking the service's JSON 1.1 protocol: `POST /` with
 * `X-Amz-Target: secretsmanager.<Operation>`, SigV4-signed, errors as `{"__type": "...", "message": "..."}` with the
 * service's status codes. The app's real SDK client reaches it through AWS_ENDPOINT_URL_SECRETS_MANAGER.
 *
 * Plain node:http rather than msw handlers: the whole protocol is one `POST /` routed by a header, and verifying
 * SigV4 needs the raw body and headers, so URL routing would add nothing and hide what is checked.
 *
 * Relative imports only: this file also runs under plain `node --import tsx` (see secrets-manager-stand-in-cli.ts).
 */
import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export const STAND_IN_CREDENTIALS = {
  accessKeyId: "AKIASTANDIN000000000",
  secretAccessKey: "stand-in/secret-access-key/not-a-real-one",
} as const;
export const STAND_IN_ACCOUNT_ID = "123456789012";

export const FAULT_ERRORS = {
  ThrottlingException: { status: 400, message: "Rate exceeded" },
  AccessDeniedException: { status: 400, message: "" }, // built per request, like the real one
  UnrecognizedClientException: { status: 400, message: "The security token included in the request is invalid." },
  ExpiredTokenException: { status: 400, message: "The security token included in the request is expired" },
  InternalServiceError: { status: 500, message: "An error occurred on the server side." },
  ServiceUnavailable: { status: 503, message: "Service Unavailable" },
  DecryptionFailure: { status: 400, message: "Secrets Manager can't decrypt the protected secret text using the provided KMS key." },
  EncryptionFailure: {
    status: 400,
    message:
      "Secrets Manager can't encrypt the protected secret text using the provided KMS key. Check that the KMS key is available, enabled, and not in an invalid state.",
  },
  LimitExceededException: { status: 400, message: "The request failed because it would exceed one of the Secrets Manager quotas." },
  ResourceNotFoundException: { status: 400, message: "Secrets Manager can't find the specified secret." },
  InvalidRequestException: { status: 400, message: "You can't perform this operation on the secret because it was marked for deletion." },
  InvalidParameterException: { status: 400, message: "The parameter is not valid." },
  /** Not an AWS error: the connection is dropped without a response. */
  ConnectionReset: { status: 0, message: "" },
} as const;
export type FaultError = keyof typeof FAULT_ERRORS;

export type Fault = {
  /** Secrets Manager operation name, e.g. "PutSecretValue"; every operation when omitted. */
  operation?: string;
  error?: FaultError;
  /** Overrides the error's message (e.g. to check a client never repeats what the service said). */
  message?: string;
  /** Answers this much later. Without `error` the operation itself runs on arrival (so a client that gave up may
   *  find its write done when it retries); with `error` nothing runs and the error comes after the delay. */
  delayMs?: number;
  /** How many matching requests it affects; unlimited when omitted. */
  times?: number;
};

export type RecordedRequest = {
  operation: string;
  at: string;
  secretId?: string;
  clientRequestToken?: string;
  versionId?: string;
  status: number;
  error?: string;
  fault?: string;
};

export type StoredSecretView = {
  arn: string;
  name: string;
  description?: string;
  kmsKeyId?: string;
  tags: Array<{ Key: string; Value: string }>;
  createdDate: string;
  deletedDate?: string;
  deletionDate?: string;
  versions: Array<{ versionId: string; stages: string[]; value: string; createdDate: string }>;
};

export type SecretsManagerStandInOptions = {
  port?: number;
  host?: string;
  region?: string;
  /** Only these credentials pass SigV4 verification; `null` checks the header's shape but not the signature. */
  credentials?: { accessKeyId: string; secretAccessKey: string } | null;
  onRequest?: (request: RecordedRequest) => void;
  /** Added before every operation runs (control routes are never delayed). Change it later with setLatency or
   *  `POST /__stand-in/latency {"ms": N}`. A client that disconnects during the wait leaves nothing done. */
  latencyMs?: number;
};

export type SecretsManagerStandIn = {
  url: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string } | null;
  injectFault(fault: Fault): void;
  clearFaults(): void;
  secrets(): StoredSecretView[];
  /** Ends every recovery window now, as the service does once it passes: each secret scheduled for deletion is
   *  removed for good (its name can be created again). Returns the removed names. */
  purgeDeleted(): string[];
  setLatency(ms: number): void;
  requests: RecordedRequest[];
  /** Forgets secrets, faults and the request log; the latency stays. */
  reset(): void;
  close(): Promise<void>;
};

type Version = { id: string; value: string; createdAt: Date; stages: Set<string> };
type Secret = {
  arn: string;
  name: string;
  description?: string;
  kmsKeyId?: string;
  tags: Array<{ Key: string; Value: string }>;
  createdAt: Date;
  lastChangedAt: Date;
  lastAccessedAt?: Date;
  deletedAt?: Date;
  deletionDate?: Date;
  versions: Map<string, Version>;
};

class ServiceError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const CURRENT = "AWSCURRENT";
const PREVIOUS = "AWSPREVIOUS";
const JSON_CONTENT_TYPE = "application/x-amz-json-1.1";
const NAME_PATTERN = /^[A-Za-z0-9/_+=.@-]{1,512}$/;

const epochSeconds = (date: Date) => date.getTime() / 1000;

export async function startSecretsManagerStandIn(options: SecretsManagerStandInOptions = {}): Promise<SecretsManagerStandIn> {
  const region = options.region ?? "eu-west-1";
  const credentials = options.credentials === undefined ? { ...STAND_IN_CREDENTIALS } : options.credentials;
  const secrets = new Map<string, Secret>();
  let faults: Array<Fault & { remaining: number }> = [];
  const requests: RecordedRequest[] = [];
  const pendingDelays = new Set<() => void>();
  let latencyMs = checkedLatency(options.latencyMs ?? 0);
  const setLatency = (ms: number) => {
    latencyMs = checkedLatency(ms);
  };

  function purgeDeleted(): string[] {
    const purged = [...secrets.values()].filter((secret) => secret.deletedAt).map((secret) => secret.name);
    for (const name of purged) secrets.delete(name);
    return purged;
  }

  function injectFault(fault: Fault) {
    if (fault.error !== undefined && !(fault.error in FAULT_ERRORS)) throw new Error(`unknown fault error ${String(fault.error)}`);
    if (fault.delayMs !== undefined && !(fault.delayMs >= 0)) throw new Error("delayMs must be >= 0");
    if (fault.error === undefined && fault.delayMs === undefined) throw new Error("a fault needs an error or a delayMs");
    faults.push({ ...fault, remaining: fault.times ?? Number.POSITIVE_INFINITY });
  }

  function takeFault(operation: string): Fault | undefined {
    const fault = faults.find((candidate) => candidate.remaining > 0 && (!candidate.operation || candidate.operation === operation));
    if (fault) fault.remaining -= 1;
    faults = faults.filter((candidate) => candidate.remaining > 0);
    return fault;
  }

  function view(): StoredSecretView[] {
    return [...secrets.values()].map((secret) => ({
      arn: secret.arn,
      name: secret.name,
      ...(secret.description !== undefined ? { description: secret.description } : {}),
      ...(secret.kmsKeyId !== undefined ? { kmsKeyId: secret.kmsKeyId } : {}),
      tags: secret.tags.map((tag) => ({ ...tag })),
      createdDate: secret.createdAt.toISOString(),
      ...(secret.deletedAt ? { deletedDate: secret.deletedAt.toISOString() } : {}),
      ...(secret.deletionDate ? { deletionDate: secret.deletionDate.toISOString() } : {}),
      versions: [...secret.versions.values()].map((version) => ({
        versionId: version.id,
        stages: [...version.stages],
        value: version.value,
        createdDate: version.createdAt.toISOString(),
      })),
    }));
  }

  function reset() {
    secrets.clear();
    faults = [];
    requests.length = 0;
  }

  const operations = createOperations(secrets, region);

  const server = createServer((request, response) => {
    void handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) sendError(response, new ServiceError("InternalServiceError", String(error), 500));
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse) {
    const body = await readBody(request);
    const url = new URL(request.url ?? "/", "http://stand-in");
    if (url.pathname.startsWith("/__stand-in/")) return control(request.method ?? "GET", url.pathname, body, response);

    const target = headerValue(request, "x-amz-target") ?? "";
    const operation = target.startsWith("secretsmanager.") ? target.slice("secretsmanager.".length) : "";
    const record: RecordedRequest = { operation: operation || target || "(none)", at: new Date().toISOString(), status: 200 };
    // Logged on arrival, in arrival order: a slow answer finishing after a test has moved on (and cleared the log)
    // must not turn up in the next test's requests.
    requests.push(record);
    const finish = (status: number, error?: string) => {
      record.status = status;
      if (error) record.error = error;
      options.onRequest?.(record);
    };

    try {
      if (request.method !== "POST" || url.pathname !== "/") throw new ServiceError("UnknownOperationException", "", 404);
      verifyAuthorization(request, body, region, credentials);
      if (!(headerValue(request, "content-type") ?? "").startsWith(JSON_CONTENT_TYPE)) {
        throw new ServiceError("SerializationException", "Start of structure or map found where not expected.");
      }
      const handler = operations[operation];
      if (!handler) throw new ServiceError("UnknownOperationException", "");
      let input: Record<string, unknown>;
      try {
        const parsed: unknown = body.length ? JSON.parse(body.toString("utf8")) : {};
        if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not an object");
        input = parsed as Record<string, unknown>;
      } catch {
        throw new ServiceError("SerializationException", "Invalid JSON in request body.");
      }
      if (typeof input.SecretId === "string") record.secretId = input.SecretId;
      else if (typeof input.Name === "string") record.secretId = input.Name;
      if (typeof input.ClientRequestToken === "string") record.clientRequestToken = input.ClientRequestToken;
      if (typeof input.VersionId === "string") record.versionId = input.VersionId;

      if (latencyMs > 0) {
        await delay(latencyMs);
        // The client gave up while the request was on its way: nothing runs, nothing answers.
        if (request.socket.destroyed) {
          finish(0, "ClientClosed");
          return;
        }
      }

      const fault = takeFault(operation);
      if (fault) record.fault = fault.error ?? `delay ${fault.delayMs}ms`;
      if (!fault?.error) {
        // The work happens on arrival and only the answer is late, like a response lost to a client timeout.
        let outcome: { output: object } | { error: unknown };
        try {
          outcome = { output: handler(input) };
        } catch (error) {
          outcome = { error };
        }
        if (fault?.delayMs) await delay(fault.delayMs);
        if ("error" in outcome) throw outcome.error;
        finish(200);
        sendJson(response, 200, outcome.output);
        return;
      }

      if (fault.delayMs) await delay(fault.delayMs);
      if (fault.error === "ConnectionReset") {
        finish(0, "ConnectionReset");
        request.socket.destroy();
        return;
      }
      const known = FAULT_ERRORS[fault.error];
      const message =
        fault.message ??
        (fault.error === "AccessDeniedException"
          ? `User: arn:aws:iam::${STAND_IN_ACCOUNT_ID}:user/stand-in is not authorized to perform: secretsmanager:${operation} on resource: ${record.secretId ?? "*"} because no identity-based policy allows the secretsmanager:${operation} action`
          : known.message);
      throw new ServiceError(fault.error, message, known.status);
    } catch (error) {
      const serviceError = error instanceof ServiceError ? error : new ServiceError("InternalServiceError", "An error occurred on the server side.", 500);
      finish(serviceError.status, serviceError.type);
      sendError(response, serviceError);
    }
  }

  function delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        pendingDelays.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      pendingDelays.add(done);
    });
  }

  function control(method: string, pathname: string, body: Buffer, response: ServerResponse) {
    const route = `${method} ${pathname.replace(/\/+$/, "")}`;
    try {
      switch (route) {
        case "GET /__stand-in/secrets":
          return sendJson(response, 200, { secrets: view() }, "application/json");
        case "GET /__stand-in/requests":
          return sendJson(response, 200, { requests }, "application/json");
        case "GET /__stand-in/faults":
          return sendJson(response, 200, { faults }, "application/json");
        case "POST /__stand-in/faults": {
          const parsed: unknown = JSON.parse(body.toString("utf8") || "{}");
          for (const fault of Array.isArray(parsed) ? parsed : [parsed]) injectFault(fault as Fault);
          return sendJson(response, 201, { faults }, "application/json");
        }
        case "DELETE /__stand-in/faults":
          faults = [];
          return sendJson(response, 200, { faults }, "application/json");
        case "POST /__stand-in/latency": {
          const parsed = JSON.parse(body.toString("utf8") || "{}") as { ms?: unknown };
          setLatency(typeof parsed.ms === "number" ? parsed.ms : Number.NaN);
          return sendJson(response, 200, { latencyMs }, "application/json");
        }
        case "POST /__stand-in/purge-deleted":
          return sendJson(response, 200, { purged: purgeDeleted() }, "application/json");
        case "POST /__stand-in/reset":
          reset();
          return sendJson(response, 200, { ok: true }, "application/json");
        case "GET /__stand-in/health":
          return sendJson(response, 200, { ok: true, region }, "application/json");
        default:
          return sendJson(response, 404, { error: `no control route ${route}` }, "application/json");
      }
    } catch (error) {
      return sendJson(response, 400, { error: error instanceof Error ? error.message : String(error) }, "application/json");
    }
  }

  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://${host}:${port}`,
    region,
    credentials,
    injectFault,
    clearFaults: () => {
      faults = [];
    },
    secrets: view,
    purgeDeleted,
    setLatency,
    requests,
    reset,
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const release of [...pendingDelays]) release();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function createOperations(secrets: Map<string, Secret>, region: string): Record<string, (input: Record<string, unknown>) => object> {
  const text = (input: Record<string, unknown>, key: string, required = false): string | undefined => {
    const value = input[key];
    if (value === undefined || value === null) {
      if (required) throw new ServiceError("InvalidParameterException", `You must provide a value for the ${key} parameter.`);
      return undefined;
    }
    if (typeof value !== "string") throw new ServiceError("SerializationException", `Expected a string for ${key}.`);
    return value;
  };

  const find = (secretId: string): Secret => {
    const secret = secrets.get(secretId) ?? [...secrets.values()].find((candidate) => candidate.arn === secretId);
    if (!secret) throw new ServiceError("ResourceNotFoundException", "Secrets Manager can't find the specified secret.");
    return secret;
  };
  const requireLive = (secret: Secret) => {
    if (secret.deletedAt) {
      throw new ServiceError("InvalidRequestException", "You can't perform this operation on the secret because it was marked for deletion.");
    }
  };
  const requestToken = (input: Record<string, unknown>): string => {
    const token = text(input, "ClientRequestToken");
    if (token === undefined) return randomUUID();
    if (token.length < 32 || token.length > 64) {
      throw new ServiceError("InvalidParameterException", "ClientRequestToken must be between 32 and 64 characters.");
    }
    return token;
  };
  const secretValue = (input: Record<string, unknown>, required: boolean): string | undefined => {
    if (input.SecretBinary !== undefined) throw new ServiceError("InvalidParameterException", "This stand-in stores SecretString only.");
    const value = text(input, "SecretString");
    if (value === undefined && required) {
      throw new ServiceError("InvalidRequestException", "You must provide either SecretString or SecretBinary.");
    }
    if (value !== undefined && Buffer.byteLength(value) > 65_536) {
      throw new ServiceError("InvalidParameterException", "SecretString must be at most 65536 bytes.");
    }
    return value;
  };
  const holderOf = (secret: Secret, stage: string) => [...secret.versions.values()].find((version) => version.stages.has(stage));
  const attach = (secret: Secret, version: Version, stage: string) => {
    const holder = holderOf(secret, stage);
    if (holder === version) return;
    holder?.stages.delete(stage);
    version.stages.add(stage);
    // Moving AWSCURRENT hands AWSPREVIOUS to the version it came from, as the real service does.
    if (stage === CURRENT && holder) {
      holderOf(secret, PREVIOUS)?.stages.delete(PREVIOUS);
      holder.stages.add(PREVIOUS);
    }
  };
  const addVersion = (secret: Secret, id: string, value: string, stages: string[]) => {
    const version: Version = { id, value, createdAt: new Date(), stages: new Set() };
    secret.versions.set(id, version);
    for (const stage of stages) attach(secret, version, stage);
    secret.lastChangedAt = new Date();
    return version;
  };

  return {
    CreateSecret(input) {
      const name = text(input, "Name", true)!;
      if (!NAME_PATTERN.test(name)) throw new ServiceError("InvalidParameterException", "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!");
      const value = secretValue(input, false);
      const token = requestToken(input);
      const existing = secrets.get(name);
      if (existing) {
        if (existing.deletedAt) {
          throw new ServiceError("InvalidRequestException", "You can't create this secret because a secret with this name is already scheduled for deletion.");
        }
        const same = existing.versions.get(token);
        if (same && value !== undefined && same.value === value) return { ARN: existing.arn, Name: name, VersionId: same.id };
        throw new ServiceError("ResourceExistsException", `The operation failed because the secret ${name} already exists.`);
      }
      const tags = Array.isArray(input.Tags) ? (input.Tags as Array<{ Key: string; Value: string }>).map(({ Key, Value }) => ({ Key, Value })) : [];
      const now = new Date();
      const secret: Secret = {
        arn: `arn:aws:secretsmanager:${region}:${STAND_IN_ACCOUNT_ID}:secret:${name}-${randomSuffix()}`,
        name,
        ...(text(input, "Description") !== undefined ? { description: text(input, "Description")! } : {}),
        ...(text(input, "KmsKeyId") !== undefined ? { kmsKeyId: text(input, "KmsKeyId")! } : {}),
        tags,
        createdAt: now,
        lastChangedAt: now,
        versions: new Map(),
      };
      secrets.set(name, secret);
      if (value === undefined) return { ARN: secret.arn, Name: name };
      const version = addVersion(secret, token, value, [CURRENT]);
      return { ARN: secret.arn, Name: name, VersionId: version.id };
    },

    PutSecretValue(input) {
      const secret = find(text(input, "SecretId", true)!);
      requireLive(secret);
      const value = secretValue(input, true)!;
      const token = requestToken(input);
      const existing = secret.versions.get(token);
      if (existing) {
        if (existing.value !== value) {
          throw new ServiceError("ResourceExistsException", "You can't modify an existing version, you can only create new versions.");
        }
        // Same token, same value: the retry is ignored and nothing moves.
        return { ARN: secret.arn, Name: secret.name, VersionId: existing.id, VersionStages: [...existing.stages] };
      }
      const stages = Array.isArray(input.VersionStages) ? (input.VersionStages as string[]) : [CURRENT];
      const version = addVersion(secret, token, value, stages);
      return { ARN: secret.arn, Name: secret.name, VersionId: version.id, VersionStages: [...version.stages] };
    },

    GetSecretValue(input) {
      const secret = find(text(input, "SecretId", true)!);
      requireLive(secret);
      const versionId = text(input, "VersionId");
      const stage = text(input, "VersionStage");
      let version: Version | undefined;
      if (versionId !== undefined) {
        version = secret.versions.get(versionId);
        if (!version || (stage !== undefined && !version.stages.has(stage))) {
          throw new ServiceError("ResourceNotFoundException", `Secrets Manager can't find the specified secret value for VersionId: ${versionId}`);
        }
      } else {
        version = holderOf(secret, stage ?? CURRENT);
        if (!version) {
          throw new ServiceError("ResourceNotFoundException", `Secrets Manager can't find the specified secret value for staging label: ${stage ?? CURRENT}`);
        }
      }
      secret.lastAccessedAt = new Date();
      return {
        ARN: secret.arn,
        Name: secret.name,
        VersionId: version.id,
        SecretString: version.value,
        VersionStages: [...version.stages],
        CreatedDate: epochSeconds(version.createdAt),
      };
    },

    DescribeSecret(input) {
      const secret = find(text(input, "SecretId", true)!);
      const { SecretVersionsToStages, ...metadata } = secretMetadata(secret);
      return { ...metadata, RotationEnabled: false, VersionIdsToStages: SecretVersionsToStages };
    },

    ListSecrets(input) {
      const request = parseListSecretsInput(input);
      const order = new Map([...secrets.values()].map((secret, index) => [secret, index]));
      const matching = [...secrets.values()]
        .filter((secret) => request.includePlannedDeletion || !secret.deletedAt)
        .filter((secret) => request.filters.every((filter) => matchesFilter(secret, filter)))
        .sort((a, b) => {
          const byKey = compareBy(request.sortBy, a, b) || order.get(a)! - order.get(b)!;
          return request.sortOrder === "desc" ? -byKey : byKey;
        });
      const page = matching.slice(request.offset, request.offset + request.maxResults);
      const next = request.offset + request.maxResults;
      return {
        SecretList: page.map((secret) => secretMetadata(secret)),
        ...(next < matching.length ? { NextToken: encodeNextToken(next) } : {}),
      };
    },

    DeleteSecret(input) {
      const secret = find(text(input, "SecretId", true)!);
      const force = input.ForceDeleteWithoutRecovery === true;
      const window = input.RecoveryWindowInDays;
      if (force && window !== undefined) {
        throw new ServiceError("InvalidParameterException", "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.");
      }
      if (window !== undefined && (typeof window !== "number" || !Number.isInteger(window) || window < 7 || window > 30)) {
        throw new ServiceError("InvalidParameterException", "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).");
      }
      const now = new Date();
      if (force) {
        secrets.delete(secret.name);
        return { ARN: secret.arn, Name: secret.name, DeletionDate: epochSeconds(now) };
      }
      if (secret.deletedAt) {
        throw new ServiceError("InvalidRequestException", "You can't perform this operation on the secret because it was already scheduled for deletion.");
      }
      secret.deletedAt = now;
      secret.deletionDate = new Date(now.getTime() + (typeof window === "number" ? window : 30) * 86_400_000);
      return { ARN: secret.arn, Name: secret.name, DeletionDate: epochSeconds(secret.deletionDate) };
    },

    RestoreSecret(input) {
      const secret = find(text(input, "SecretId", true)!);
      delete secret.deletedAt;
      delete secret.deletionDate;
      return { ARN: secret.arn, Name: secret.name };
    },

    UpdateSecretVersionStage(input) {
      const secret = find(text(input, "SecretId", true)!);
      requireLive(secret);
      const stage = text(input, "VersionStage", true)!;
      const moveTo = text(input, "MoveToVersionId");
      const removeFrom = text(input, "RemoveFromVersionId");
      const holder = holderOf(secret, stage);
      const missingVersion = (id: string) =>
        new ServiceError("ResourceNotFoundException", `Secrets Manager can't find the specified secret value for VersionId: ${id}`);

      if (removeFrom !== undefined) {
        if (!secret.versions.has(removeFrom)) throw missingVersion(removeFrom);
        if (holder?.id !== removeFrom) {
          throw new ServiceError("InvalidParameterException", `The staging label ${stage} isn't attached to the version ${removeFrom}.`);
        }
      }
      if (moveTo === undefined) {
        if (stage === CURRENT) {
          throw new ServiceError("InvalidParameterException", "You can only move staging label AWSCURRENT to a different secret version. It can't be completely removed.");
        }
        if (holder && removeFrom !== undefined) holder.stages.delete(stage);
        return { ARN: secret.arn, Name: secret.name };
      }
      const target = secret.versions.get(moveTo);
      if (!target) throw missingVersion(moveTo);
      if (holder && holder !== target && removeFrom !== holder.id) {
        throw new ServiceError(
          "InvalidParameterException",
          `The parameter RemoveFromVersionId can't be empty. Staging label ${stage} is currently attached to version ${holder.id}, so you must explicitly reference that version in RemoveFromVersionId.`,
        );
      }
      attach(secret, target, stage);
      secret.lastChangedAt = new Date();
      return { ARN: secret.arn, Name: secret.name };
    },
  };
}

/** What DescribeSecret and ListSecrets tell about a secret (never its value). */
function secretMetadata(secret: Secret) {
  const secretVersionsToStages: Record<string, string[]> = {};
  for (const version of secret.versions.values()) {
    // Versions without a label are deprecated and not listed, as in the real service.
    if (version.stages.size > 0) secretVersionsToStages[version.id] = [...version.stages];
  }
  return {
    ARN: secret.arn,
    Name: secret.name,
    ...(secret.description !== undefined ? { Description: secret.description } : {}),
    ...(secret.kmsKeyId !== undefined ? { KmsKeyId: secret.kmsKeyId } : {}),
    LastChangedDate: epochSeconds(secret.lastChangedAt),
    // The service records the day of the last access, not the moment.
    ...(secret.lastAccessedAt ? { LastAccessedDate: epochSeconds(startOfUtcDay(secret.lastAccessedAt)) } : {}),
    ...(secret.deletedAt ? { DeletedDate: epochSeconds(secret.deletedAt) } : {}),
    Tags: secret.tags.map((tag) => ({ ...tag })),
    SecretVersionsToStages: secretVersionsToStages,
    CreatedDate: epochSeconds(secret.createdAt),
  };
}

function startOfUtcDay(date: Date): Date {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
}

// ListSecrets, as the API reference and the service model (botocore secretsmanager/2017-10-17) describe it.
const FILTER_KEYS = ["description", "name", "tag-key", "tag-value", "primary-region", "owning-service", "all"] as const;
type FilterKey = (typeof FILTER_KEYS)[number];
const SORT_BY = ["created-date", "last-accessed-date", "last-changed-date", "name"] as const;
type SortBy = (typeof SORT_BY)[number];
const FILTER_VALUE_PATTERN = /^!?[a-zA-Z0-9 :_@/+=.\-!]*$/;
const DEFAULT_MAX_RESULTS = 100;

type ListFilter = { key: FilterKey; values: string[] };
type ListSecretsRequest = {
  filters: ListFilter[];
  includePlannedDeletion: boolean;
  maxResults: number;
  offset: number;
  sortOrder: "asc" | "desc";
  sortBy: SortBy;
};

function validationError(detail: string): ServiceError {
  return new ServiceError("ValidationException", `1 validation error detected: ${detail}`);
}

function parseListSecretsInput(input: Record<string, unknown>): ListSecretsRequest {
  const { MaxResults, IncludePlannedDeletion, NextToken, SortOrder, SortBy: sortBy, Filters } = input;
  if (MaxResults !== undefined && (typeof MaxResults !== "number" || !Number.isInteger(MaxResults))) {
    throw new ServiceError("SerializationException", "Expected an integer for MaxResults.");
  }
  if (typeof MaxResults === "number" && MaxResults < 1) {
    throw validationError(`Value '${MaxResults}' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1`);
  }
  if (typeof MaxResults === "number" && MaxResults > 100) {
    throw validationError(`Value '${MaxResults}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 100`);
  }
  if (IncludePlannedDeletion !== undefined && typeof IncludePlannedDeletion !== "boolean") {
    throw new ServiceError("SerializationException", "Expected a boolean for IncludePlannedDeletion.");
  }
  if (SortOrder !== undefined && SortOrder !== "asc" && SortOrder !== "desc") {
    throw validationError(`Value '${String(SortOrder)}' at 'sortOrder' failed to satisfy constraint: Member must satisfy enum value set: [asc, desc]`);
  }
  if (sortBy !== undefined && !SORT_BY.includes(sortBy as SortBy)) {
    throw validationError(`Value '${String(sortBy)}' at 'sortBy' failed to satisfy constraint: Member must satisfy enum value set: [${SORT_BY.join(", ")}]`);
  }
  return {
    filters: parseFilters(Filters),
    includePlannedDeletion: IncludePlannedDeletion === true,
    maxResults: typeof MaxResults === "number" ? MaxResults : DEFAULT_MAX_RESULTS,
    offset: NextToken === undefined ? 0 : decodeNextToken(NextToken),
    // The reference only says secrets are listed by CreatedDate; oldest first is assumed when no order is asked for.
    sortOrder: SortOrder === "desc" ? "desc" : "asc",
    sortBy: (sortBy as SortBy | undefined) ?? "created-date",
  };
}

function parseFilters(raw: unknown): ListFilter[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw new ServiceError("SerializationException", "Expected a list for Filters.");
  if (raw.length > 10) {
    throw validationError("Value at 'filters' failed to satisfy constraint: Member must have length less than or equal to 10");
  }
  return raw.map((entry: unknown, index): ListFilter => {
    const { Key, Values } = (entry ?? {}) as { Key?: unknown; Values?: unknown };
    const at = `filters.${index + 1}.member`;
    if (Key === undefined || Key === null) throw new ServiceError("InvalidParameterException", "Invalid filter key");
    if (!FILTER_KEYS.includes(Key as FilterKey)) {
      throw validationError(`Value '${String(Key)}' at '${at}.key' failed to satisfy constraint: Member must satisfy enum value set: [${FILTER_KEYS.join(", ")}]`);
    }
    if (Values === undefined || Values === null) throw new ServiceError("InvalidParameterException", `Invalid filter values for key: ${String(Key)}`);
    if (!Array.isArray(Values) || Values.some((value) => typeof value !== "string")) {
      throw new ServiceError("SerializationException", "Expected a list of strings for Values.");
    }
    if (Values.length < 1 || Values.length > 10) {
      throw validationError(`Value at '${at}.values' failed to satisfy constraint: Member must have length between 1 and 10`);
    }
    for (const value of Values as string[]) {
      if (value.length > 512 || !FILTER_VALUE_PATTERN.test(value)) {
        throw validationError(
          `Value at '${at}.values' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 512, Member must satisfy regular expression pattern: ^\\!?[a-zA-Z0-9 :_@\\/\\+\\=\\.\\-\\!]*$]`,
        );
      }
    }
    return { key: Key as FilterKey, values: Values as string[] };
  });
}

/** Values within one filter are ORed; a value starting with "!" excludes what it matches. Filters are ANDed. */
function matchesFilter(secret: Secret, filter: ListFilter): boolean {
  const positives = filter.values.filter((value) => !value.startsWith("!"));
  const negatives = filter.values.filter((value) => value.startsWith("!")).map((value) => value.slice(1));
  const matches = (value: string) => filterMatch(filter.key, secret, value);
  if (negatives.some(matches)) return false;
  return positives.length === 0 || positives.some(matches);
}

function filterMatch(key: FilterKey, secret: Secret, value: string): boolean {
  switch (key) {
    case "name": // prefix, case-sensitive
      return secret.name.startsWith(value);
    case "description": // prefix, not case-sensitive
      return secret.description !== undefined && secret.description.toLowerCase().startsWith(value.toLowerCase());
    case "tag-key":
      return secret.tags.some((tag) => tag.Key.startsWith(value));
    case "tag-value":
      return secret.tags.some((tag) => tag.Value.startsWith(value));
    case "primary-region": // only replicated secrets have one; the stand-in does not replicate
    case "owning-service": // only secrets other services manage have one
      return false;
    case "all": {
      // The value is broken into words; each must begin a word of the name, description, a tag key or a tag value.
      const attributes = [secret.name, secret.description ?? "", ...secret.tags.flatMap((tag) => [tag.Key, tag.Value])].flatMap(words);
      const wanted = words(value);
      return wanted.length > 0 && wanted.every((word) => attributes.some((attribute) => attribute.startsWith(word)));
    }
  }
}

function words(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[\s/_+=.@:-]+/)
    .filter(Boolean);
}

function compareBy(sortBy: SortBy, a: Secret, b: Secret): number {
  switch (sortBy) {
    case "name":
      return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
    case "last-changed-date":
      return a.lastChangedAt.getTime() - b.lastChangedAt.getTime();
    case "last-accessed-date":
      return (a.lastAccessedAt?.getTime() ?? 0) - (b.lastAccessedAt?.getTime() ?? 0);
    case "created-date":
      return a.createdAt.getTime() - b.createdAt.getTime();
  }
}

function encodeNextToken(offset: number): string {
  return Buffer.from(JSON.stringify({ standInOffset: offset })).toString("base64url");
}

function decodeNextToken(token: unknown): number {
  const invalid = new ServiceError("InvalidNextTokenException", "The NextToken value is invalid.");
  if (typeof token !== "string" || token.length < 1 || token.length > 4096) throw invalid;
  try {
    const offset = (JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { standInOffset?: unknown }).standInOffset;
    if (typeof offset === "number" && Number.isSafeInteger(offset) && offset > 0) return offset;
  } catch {
    // fall through
  }
  throw invalid;
}

/** SigV4 as the real endpoint checks it: shape, scope (service and region), known key, then the signature itself. */
function verifyAuthorization(
  request: IncomingMessage,
  body: Buffer,
  region: string,
  credentials: { accessKeyId: string; secretAccessKey: string } | null,
) {
  const authorization = headerValue(request, "authorization");
  if (!authorization) throw new ServiceError("MissingAuthenticationTokenException", "Missing Authentication Token");
  const match = /^AWS4-HMAC-SHA256 Credential=([^/\s,]+)\/(\d{8})\/([^/\s,]+)\/([^/\s,]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(
    authorization.trim(),
  );
  if (!match) {
    throw new ServiceError(
      "IncompleteSignatureException",
      "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters in the AWS4-HMAC-SHA256 format.",
    );
  }
  const [, accessKeyId, date, scopeRegion, service, signedHeaderList, signature] = match as unknown as string[];
  if (service !== "secretsmanager") {
    throw new ServiceError("InvalidSignatureException", `Credential should be scoped to correct service: 'secretsmanager'.`);
  }
  if (scopeRegion !== region) {
    throw new ServiceError("InvalidSignatureException", `Credential should be scoped to a valid region, not '${scopeRegion}'.`);
  }
  const amzDate = headerValue(request, "x-amz-date");
  if (!amzDate || !/^\d{8}T\d{6}Z$/.test(amzDate) || !amzDate.startsWith(date!)) {
    throw new ServiceError("IncompleteSignatureException", "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  }
  const signedAt = Date.parse(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
  if (Math.abs(Date.now() - signedAt) > 15 * 60_000) {
    throw new ServiceError("InvalidSignatureException", `Signature expired: ${amzDate} is now earlier or later than the 15 min window.`);
  }
  if (!credentials) return;
  if (accessKeyId !== credentials.accessKeyId) {
    throw new ServiceError("UnrecognizedClientException", "The security token included in the request is invalid.");
  }

  const signedHeaders = signedHeaderList!.split(";");
  const url = new URL(request.url ?? "/", "http://stand-in");
  const canonicalQuery = [...url.searchParams.entries()]
    .map(([key, value]) => [encodeRfc3986(key), encodeRfc3986(value)] as const)
    .sort(([a, av], [b, bv]) => (a === b ? (av < bv ? -1 : 1) : a < b ? -1 : 1))
    .map(([key, value]) => `${key}=${value}`)
    .join("&");
  const canonicalHeaders = signedHeaders.map((name) => `${name}:${(headerValue(request, name) ?? "").trim().replace(/\s+/g, " ")}\n`).join("");
  const payloadHash = headerValue(request, "x-amz-content-sha256") ?? createHash("sha256").update(body).digest("hex");
  const canonicalRequest = [request.method, url.pathname, canonicalQuery, canonicalHeaders, signedHeaderList, payloadHash].join("\n");
  const scope = `${date}/${scopeRegion}/${service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, createHash("sha256").update(canonicalRequest).digest("hex")].join("\n");
  let signingKey: Buffer = Buffer.from(`AWS4${credentials.secretAccessKey}`, "utf8");
  for (const part of [date!, scopeRegion!, service!, "aws4_request"]) signingKey = createHmac("sha256", signingKey).update(part).digest();
  const expected = createHmac("sha256", signingKey).update(stringToSign).digest();
  if (!timingSafeEqual(expected, Buffer.from(signature!, "hex"))) {
    throw new ServiceError(
      "InvalidSignatureException",
      "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
    );
  }
}

function checkedLatency(ms: number): number {
  if (!Number.isFinite(ms) || ms < 0 || ms > 600_000) throw new Error(`latency must be 0-600000 ms, got ${ms}`);
  return ms;
}

function encodeRfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);
}

function headerValue(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(",") : value;
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

function sendJson(response: ServerResponse, status: number, body: unknown, contentType = JSON_CONTENT_TYPE) {
  if (response.destroyed) return;
  const text = JSON.stringify(body);
  response.writeHead(status, {
    "content-type": contentType,
    "content-length": Buffer.byteLength(text),
    "x-amzn-requestid": randomUUID(),
    date: new Date().toUTCString(),
  });
  response.end(text);
}

function sendError(response: ServerResponse, error: ServiceError) {
  sendJson(response, error.status, { __type: error.type, message: error.message });
}

function randomSuffix(): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  return [...randomBytes(6)].map((byte) => alphabet[byte % alphabet.length]).join("");
}
