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

class RecordChangedError extends Error {
  override readonly name = "RecordChangedError";
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

  try {
    const readBack = await secrets.read(organizationId, written);
    if (readBack !== change.token) throw new SecretStoreError("corrupt", "The secret read back differs from what was written");
  } catch (error) {
    if (!(error instanceof SecretStoreError)) throw error;
    logStoreError("buildkite.secret.read_back_failed", organizationId, error);
    await undo();
    return { ok: false, failure: deadlineOr(deadline, { code: "secret_store_failed", reason: error.code }) };
  }

  if (deadline.passed()) {
    // Whoever asked has been told it failed, or is about to be: it must not change after all.
    log.warn("buildkite.secret.deadline_before_commit", { organizationId, deadlineSeconds: deadline.seconds });
    await undo();
    return { ok: false, failure: { code: "deadline_exceeded", seconds: deadline.seconds } };
  }

  try {
    await deps.db.$transaction(async (tx) => {
      await lease.fence(tx);
      if (!(await change.record(tx, written))) throw new RecordChangedError();
    });
  } catch (error) {
    await undo();
    if (error instanceof RecordChangedError) {
      log.warn("buildkite.secret.record_changed", { organizationId }, error);
      return { ok: false, failure: { code: "busy" } };
    }
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
