import "server-only";

import { randomUUID } from "node:crypto";
import type { Prisma } from "@/lib/generated/prisma/client";
import { log } from "@/lib/log";
import { SecretStoreError, type SecretRef } from "@/lib/secrets/store";
import type { Deadline } from "./deadline";
import type { ConnectionDependencies } from "./dependencies";
import type { ConnectionFailure } from "./failures";
import type { ConnectionLease } from "./lock";

/**
 * Step two of connect and rotate, run under the organisation's lock: write the new token as the secret's current
 * version, read it back, then record it — and undo the write if anything after it fails. So "connected" always
 * points at a version that was read back, and a failure leaves the previous record pointing at its own version,
 * current again. The write and the read-back end at the deadline, and a write is never recorded after it; undoing
 * gets the deadline's reserve.
 */

export type SecretReplacement = { ok: true; written: SecretRef } | { ok: false; failure: ConnectionFailure };

export type SecretChange = {
  token: string;
  /** The committed record's version, read under the lock (null on a first connect). */
  previous: SecretRef | null;
  /** Writes the record and its audit event inside the commit transaction; false if the record changed meanwhile. */
  record(tx: Prisma.TransactionClient, written: SecretRef): Promise<boolean>;
};

type ReadBack = { ok: true } | { ok: false; error: SecretStoreError } | { ok: false; unexpected: unknown };

/** Prisma's default for an interactive transaction. */
const TRANSACTION_TIMEOUT_MS = 5_000;

class RecordChangedError extends Error {
  override readonly name = "RecordChangedError";
}

class ReadBackFailedError extends Error {
  override readonly name = "ReadBackFailedError";
  constructor(readonly storeError: SecretStoreError) {
    super("The secret could not be read back");
  }
}

class UnexpectedReadBackError extends Error {
  override readonly name = "UnexpectedReadBackError";
  constructor(override readonly cause: unknown) {
    super("Reading the secret back failed unexpectedly");
  }
}

class DeadlinePassedError extends Error {
  override readonly name = "DeadlinePassedError";
}

export async function replaceSecret(
  deps: Pick<ConnectionDependencies, "db" | "secrets">,
  lease: ConnectionLease,
  change: SecretChange,
  deadline: Deadline,
): Promise<SecretReplacement> {
  const { organizationId } = lease;
  const requestToken = randomUUID();
  const secrets = deps.secrets.withSignal(deadline.signal);
  const cleanup = () => deps.secrets.withSignal(deadline.reserveSignal());

  let written: SecretRef;
  try {
    written = await secrets.write(organizationId, change.token, { requestToken, previous: change.previous });
  } catch (error) {
    if (!(error instanceof SecretStoreError)) throw error;
    logStoreError("buildkite.secret.write_failed", organizationId, error);
    // A timeout or a lost connection does not say whether the write landed: undo it in case it did.
    if (error.code === "timeout" || error.code === "unavailable") {
      await cleanup()
        .abandonWrite(organizationId, requestToken, change.previous)
        .catch((undoError: unknown) => log.error("buildkite.secret.abandon_failed", { organizationId }, undoError));
    }
    return { ok: false, failure: deadlineOr(deadline, { code: "secret_store_failed", reason: error.code }) };
  }

  const undo = () =>
    cleanup()
      .undoWrite(organizationId, written, change.previous)
      // The record was not changed, so it still points at the previous version, which stays readable by its id.
      .catch((undoError: unknown) => log.error("buildkite.secret.undo_failed", { organizationId, hadPrevious: change.previous !== null }, undoError));

  // The read-back and the commit's statements run together; the transaction waits for the read-back before it
  // commits, and rolls back if it failed. So the record still never points at a version that was not read back, and
  // the statements cost no time of their own on the path (docs/benchmarks.md, part 1). A settled outcome, so a
  // read-back nobody waits for (the transaction failed first) never rejects unhandled.
  const readBack = secrets.read(organizationId, written).then(
    (value): ReadBack => (value === change.token ? { ok: true } : { ok: false, error: new SecretStoreError("corrupt", "The secret read back differs from what was written") }),
    (error: unknown): ReadBack => (error instanceof SecretStoreError ? { ok: false, error } : { ok: false, unexpected: error }),
  );

  try {
    await deps.db.$transaction(
      async (tx) => {
        await lease.fence(tx);
        if (!(await change.record(tx, written))) throw new RecordChangedError();
        const read = await readBack;
        if (!read.ok) throw "unexpected" in read ? new UnexpectedReadBackError(read.unexpected) : new ReadBackFailedError(read.error);
        // Whoever asked has been told it failed, or is about to be: it must not change after all.
        if (deadline.passed()) throw new DeadlinePassedError();
      },
      // The read-back is bounded by the deadline; the commit keeps Prisma's usual five seconds after it.
      { timeout: deadline.remainingMs() + TRANSACTION_TIMEOUT_MS },
    );
  } catch (error) {
    // The read-back may still be in flight (the transaction failed first): let it end before the write is undone.
    await readBack;
    await undo();
    if (error instanceof ReadBackFailedError) {
      logStoreError("buildkite.secret.read_back_failed", organizationId, error.storeError);
      return { ok: false, failure: deadlineOr(deadline, { code: "secret_store_failed", reason: error.storeError.code }) };
    }
    if (error instanceof DeadlinePassedError) {
      log.warn("buildkite.secret.deadline_before_commit", { organizationId, deadlineSeconds: deadline.seconds });
      return { ok: false, failure: { code: "deadline_exceeded", seconds: deadline.seconds } };
    }
    if (error instanceof RecordChangedError) {
      log.warn("buildkite.secret.record_changed", { organizationId }, error);
      return { ok: false, failure: { code: "busy" } };
    }
    // Not the store's or the database's fault: a bug, for the caller's error handling (the write is undone).
    if (error instanceof UnexpectedReadBackError) throw error.cause;
    // A lost lease is a lost database session (a live one keeps its advisory lock): the database's fault, not
    // another change's, and the admin is told so.
    log.error("buildkite.secret.record_failed", { organizationId }, error);
    return { ok: false, failure: { code: "database_failed" } };
  }
  return { ok: true, written };
}

/** A store call cut short by the deadline is reported as the deadline, the cause the admin can act on. */
function deadlineOr(deadline: Deadline, failure: ConnectionFailure): ConnectionFailure {
  return deadline.passed() ? { code: "deadline_exceeded", seconds: deadline.seconds } : failure;
}

/** The fields built for operators (AWS error name, request id) go to the log; never a message that echoes input. */
export function logStoreError(event: string, organizationId: string, error: SecretStoreError) {
  log.warn(event, { organizationId, reason: error.code, awsErrorName: error.awsErrorName, requestId: error.requestId });
}
