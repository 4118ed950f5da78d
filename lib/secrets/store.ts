import "server-only";

/** Where one version of a stored token lives. `ref` is the secret's ARN (aws) or `local:<name>` (local). */
export type SecretRef = { ref: string; version: string };

export interface SecretStore {
  readonly backend: "aws" | "local";
  /**
   * Writes the organisation's Buildkite token as the secret's new current version. `requestToken` (a UUID the caller
   * makes once per connect attempt) makes a retried write produce one version, not two.
   */
  writeBuildkiteToken(organizationId: string, token: string, options: { requestToken: string }): Promise<SecretRef>;
  /** Reads exactly that version. */
  read(ref: SecretRef): Promise<string>;
  /**
   * Undo after a failed connect: make `previous` current again, or when there was none remove the secret
   * (aws: DeleteSecret with the minimum 7-day recovery window). Best effort, idempotent.
   */
  rollback(organizationId: string, written: SecretRef, previous: SecretRef | null): Promise<void>;
  /**
   * Undo after a write that failed without a clear answer (a timeout, a lost connection): the attempt made with
   * `requestToken` may have landed all the same. If it is the current version, it is rolled back as above.
   * Best effort, idempotent.
   */
  abandonWrite(organizationId: string, requestToken: string, previous: SecretRef | null): Promise<void>;
}

export type SecretStoreErrorCode =
  | "access_denied"
  | "throttled"
  | "unavailable"
  | "timeout"
  | "encryption"
  | "misconfigured"
  | "not_found"
  | "corrupt";

const retryableByDefault: Record<SecretStoreErrorCode, boolean> = {
  access_denied: false,
  throttled: true,
  unavailable: true,
  timeout: true,
  encryption: false,
  misconfigured: false,
  not_found: false,
  corrupt: false,
};

/**
 * The only error a store throws for an expected failure. Its message is our own short wording: it never carries a
 * token, and never an upstream message that could echo request input. `awsErrorName` / `requestId` help operators
 * find the failing call in CloudTrail without exposing anything else.
 */
export class SecretStoreError extends Error {
  override readonly name = "SecretStoreError";
  readonly code: SecretStoreErrorCode;
  readonly retryable: boolean;
  readonly awsErrorName: string | undefined;
  readonly requestId: string | undefined;

  constructor(
    code: SecretStoreErrorCode,
    message: string,
    details: { retryable?: boolean; awsErrorName?: string; requestId?: string } = {},
  ) {
    super(message);
    this.code = code;
    this.retryable = details.retryable ?? retryableByDefault[code];
    this.awsErrorName = details.awsErrorName;
    this.requestId = details.requestId;
  }
}

// Safe characters only, so an organisation id can never climb out of the prefix (AWS) or the data directory (local).
const organizationIdPattern = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
// Secrets Manager's name alphabet, in `/`-separated segments none of which is empty, `.` or `..`.
const prefixPattern = /^[A-Za-z0-9_+=.@-]+(\/[A-Za-z0-9_+=.@-]+)*$/;

export function assertOrganizationId(organizationId: string): void {
  // The value is deliberately left out of the message: a swapped argument could put a token here.
  if (!organizationIdPattern.test(organizationId)) {
    throw new TypeError("organizationId must be 1-128 letters, digits, '-' or '_' (such as a UUID)");
  }
}

export function assertPrefix(prefix: string): void {
  if (!prefixPattern.test(prefix) || prefix.split("/").some((segment) => segment === "." || segment === "..")) {
    throw new SecretStoreError(
      "misconfigured",
      "SECRETS_PREFIX must be '/'-separated segments of letters, digits and _ + = . @ - (no empty, '.' or '..' segment)",
    );
  }
}

export function secretName(prefix: string, organizationId: string): string {
  assertPrefix(prefix);
  assertOrganizationId(organizationId);
  return `${prefix}/${organizationId}/buildkite-api-token`;
}

/** Checks a write's inputs without ever repeating them (one of them is the token). */
export function assertWriteInput(token: string, requestToken: string): void {
  // Secrets Manager caps SecretString at 65,536 bytes; the local store keeps the same limit.
  if (typeof token !== "string" || token.length === 0 || Buffer.byteLength(token) > 65_536) {
    throw new TypeError("token must be a non-empty string of at most 65,536 bytes");
  }
  // Secrets Manager's ClientRequestToken is 32-64 characters and becomes the VersionId.
  if (typeof requestToken !== "string" || !/^[A-Za-z0-9-]{32,64}$/.test(requestToken)) {
    throw new TypeError("requestToken must be a UUID (32-64 letters, digits or '-')");
  }
}
