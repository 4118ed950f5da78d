import "server-only";

/** Where one version of a stored token lives. `ref` is the secret's ARN (aws) or `local:<name>` (local). */
export type SecretRef = { ref: string; version: string };

/** A Buildkite token secret as the store keeps it, for the reconciler (lib/integrations/buildkite/reconcile.ts). */
export type StoredSecret = {
  organizationId: string;
  /** The secret (aws: ARN; local: `local:<name>`); pair it with a version to read. */
  ref: string;
  /** Already deleted or scheduled for deletion: it will disappear without our help. */
  deleted: boolean;
};

export interface SecretStore {
  readonly backend: "aws" | "local";
  /**
   * Writes the organisation's Buildkite token as the secret's new current version. `requestToken` (a UUID the caller
   * makes once per attempt) makes a retried write produce one version, not two. `previous` is the version the
   * organisation's record points at, if any: the secret it names is written to directly.
   */
  write(organizationId: string, token: string, options: { requestToken: string; previous: SecretRef | null }): Promise<SecretRef>;
  /**
   * Reads exactly that version of the organisation's secret. A reference to any other secret (another
   * organisation's, another prefix's) is refused before anything is read: a record can never lead to a token that
   * is not its organisation's.
   */
  read(organizationId: string, ref: SecretRef): Promise<string>;
  /**
   * Undo a write nothing recorded: make `previous` current again, or when there was none remove the secret (aws:
   * scheduled for deletion). Only undoes `written` while it is still current. The caller holds the organisation's
   * lock, so `previous` is the committed record's version: it is never deleted or stripped of its label.
   */
  undoWrite(organizationId: string, written: SecretRef, previous: SecretRef | null): Promise<void>;
  /**
   * Undo after a write that failed without a clear answer (a timeout, a lost connection): the attempt made with
   * `requestToken` may have landed all the same. If it is the current version, it is undone as above.
   */
  abandonWrite(organizationId: string, requestToken: string, previous: SecretRef | null): Promise<void>;
  /**
   * Deletes the organisation's secret after the store's recovery window (SECRETS_RECOVERY_DAYS): aws schedules it
   * for deletion (restorable until then); local moves it aside and `purgeDeleted` removes it later. Idempotent.
   */
  deleteSecret(organizationId: string, ref: string): Promise<void>;
  /**
   * Makes the recorded version current again when it is not (a process that died between its write and its commit
   * leaves an unrecorded version current). Throws `not_found` when the recorded version is gone.
   */
  restoreCurrent(organizationId: string, recorded: SecretRef): Promise<"current" | "restored">;
  /** Every Buildkite token secret the store holds under the configured prefix. */
  list(): Promise<StoredSecret[]>;
  /** Removes what `deleteSecret` set aside longer than the recovery window ago (local only; AWS does this itself). */
  purgeDeleted(now?: Date): Promise<number>;
  /**
   * The same store, its calls ending with `timeout` once `signal` aborts: how an operation's deadline
   * (lib/integrations/buildkite/deadline.ts) reaches the calls it makes.
   */
  withSignal(signal: AbortSignal): SecretStore;
}

/** What a store throws for a call made after, or cut short by, its caller's deadline. */
export function deadlineReached(what: string): SecretStoreError {
  return new SecretStoreError("timeout", `The operation's deadline passed before ${what} finished`);
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
// As with BuildkiteError (lib/buildkite/errors.ts): recognised by `instanceof` whichever bundled copy made it.
const SECRET_STORE_ERROR: unique symbol = Symbol.for("gitar.SecretStoreError") as never;

export class SecretStoreError extends Error {
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as { [SECRET_STORE_ERROR]?: unknown })[SECRET_STORE_ERROR] === true;
  }

  readonly [SECRET_STORE_ERROR] = true;
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

/** Secrets Manager's bounds for RecoveryWindowInDays; the local store keeps the same window. */
export const RECOVERY_DAYS = { min: 7, max: 30, default: 7 } as const;

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

const SECRET_SUFFIX = "buildkite-api-token";

export function secretName(prefix: string, organizationId: string): string {
  assertPrefix(prefix);
  assertOrganizationId(organizationId);
  return `${prefix}/${organizationId}/${SECRET_SUFFIX}`;
}

/** The organisation a secret name belongs to, or null for a name this app did not make. */
export function organizationOfSecretName(prefix: string, name: string): string | null {
  const start = `${prefix}/`;
  const end = `/${SECRET_SUFFIX}`;
  if (!name.startsWith(start) || !name.endsWith(end)) return null;
  const organizationId = name.slice(start.length, name.length - end.length);
  return organizationIdPattern.test(organizationId) ? organizationId : null;
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
