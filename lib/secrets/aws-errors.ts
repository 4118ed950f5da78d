import "server-only";

import { deadlineReached, SecretStoreError } from "./store";

export type Operation =
  | "CreateSecret"
  | "DeleteSecret"
  | "DescribeSecret"
  | "GetSecretValue"
  | "ListSecrets"
  | "PutSecretValue"
  | "RestoreSecret"
  | "UpdateSecretVersionStage";

type ErrorShape = {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: number; requestId?: string };
};

export function errorName(error: unknown): string | undefined {
  const name = (error as ErrorShape | null)?.name;
  return typeof name === "string" ? name : undefined;
}

const accessDeniedNames = new Set([
  "AccessDeniedException",
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "SignatureDoesNotMatch",
  "IncompleteSignatureException",
  "MissingAuthenticationTokenException",
  "InvalidClientTokenId",
  "ExpiredTokenException",
  "ExpiredToken",
]);
const throttlingNames = new Set(["ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded"]);
const encryptionNames = new Set(["DecryptionFailure", "EncryptionFailure"]);
const timeoutNames = new Set(["TimeoutError", "RequestTimeout", "RequestTimeoutException"]);
const networkCodes = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);

/**
 * Turns whatever the SDK threw into a SecretStoreError. Only the AWS error name and request id survive: the SDK's
 * message is never copied, since a service message may echo request input.
 */
export function toSecretStoreError(
  operation: Operation,
  error: unknown,
  context: { prefix: string; timeoutMs: number },
): SecretStoreError {
  if (error instanceof SecretStoreError) return error;
  const shape = (typeof error === "object" && error !== null ? error : {}) as ErrorShape;
  const rawName = errorName(error);
  const name = rawName && /^[A-Za-z0-9_.:-]{1,80}$/.test(rawName) ? rawName : undefined;
  const code = typeof shape.code === "string" ? shape.code : undefined;
  const status = shape.$metadata?.httpStatusCode;
  const requestId = shape.$metadata?.requestId;
  const message = typeof shape.message === "string" ? shape.message : "";
  const isServiceError = status !== undefined && typeof shape.$fault === "string";
  const details = { awsErrorName: name, requestId };
  const label = name ? ` (${name})` : "";

  if (name && accessDeniedNames.has(name)) {
    return new SecretStoreError(
      "access_denied",
      `Secrets Manager refused ${operation}${label}: check the server's AWS credentials and that its IAM policy allows secretsmanager:${operation} on secrets named '${context.prefix}/*'`,
      details,
    );
  }
  if ((name && throttlingNames.has(name)) || status === 429) {
    return new SecretStoreError("throttled", `Secrets Manager is throttling ${operation}${label}; try again shortly`, details);
  }
  if (name && (encryptionNames.has(name) || name.startsWith("KMS"))) {
    return new SecretStoreError(
      "encryption",
      `Secrets Manager could not use the KMS key for ${operation}${label}: check the key exists, is enabled and its key policy allows the server's role`,
      details,
    );
  }
  // Checked before the timeout name: the HTTP handler renames a reset connection to TimeoutError but keeps its code.
  if (!isServiceError && code && networkCodes.has(code)) {
    return new SecretStoreError("unavailable", `Could not reach Secrets Manager for ${operation} (${code})`, details);
  }
  if (name === "AbortError") return deadlineReached(`Secrets Manager's ${operation}`);
  if ((name && timeoutNames.has(name)) || code === "ETIMEDOUT") {
    return new SecretStoreError("timeout", `Secrets Manager did not answer ${operation} within ${context.timeoutMs} ms`, details);
  }
  if (!isServiceError) {
    if (name === "CredentialsProviderError") {
      return new SecretStoreError(
        "misconfigured",
        "No AWS credentials were found for Secrets Manager: provide them through the standard sources (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, SSO, or an instance/task role)",
        details,
      );
    }
    if (/region/i.test(message)) {
      return new SecretStoreError("misconfigured", "No valid AWS region is configured for Secrets Manager: set AWS_REGION", details);
    }
  }
  if (name === "ResourceNotFoundException") {
    return new SecretStoreError("not_found", `Secrets Manager has no such secret or version (${operation})`, details);
  }
  if (name === "ResourceExistsException" && operation === "PutSecretValue") {
    // The same ClientRequestToken with a different value: a caller reused a request token across attempts.
    return new SecretStoreError(
      "misconfigured",
      "This request token already stored a different value; make a new request token for each connect attempt",
      details,
    );
  }
  if (name === "InternalServiceError" || (status !== undefined && status >= 500)) {
    return new SecretStoreError("unavailable", `Secrets Manager failed ${operation}${label}; try again shortly`, details);
  }
  if (isServiceError) {
    return new SecretStoreError("unavailable", `Secrets Manager rejected ${operation}${label}`, { ...details, retryable: false });
  }
  return new SecretStoreError("unavailable", `Secrets Manager call ${operation} failed${label}`, { ...details, retryable: false });
}
