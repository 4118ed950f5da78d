import "server-only";

import { SCHEDULER } from "@/lib/audit/actor";
import { recordAuditEvent } from "@/lib/audit/record";
import { log } from "@/lib/log";
import { SecretStoreError } from "@/lib/secrets/store";
import { recordConnectionEvents, withAttention } from "./connection-events";
import type { ConnectionDependencies } from "./dependencies";
import { attention } from "./health";
import { withConnectionLock, type ConnectionLease } from "./lock";
import { findConnectionForChange, healthColumns, updateConnectionIfUnchanged } from "./repository";

/**
 * Keeps the records and the secret store in step, on the job runner and at start. For each record: its version must
 * be readable and current (a process that died between its secret write and its commit leaves its unrecorded write
 * current: the recorded version is made current again); one that cannot be read turns "Needs attention". For each
 * secret: one that no record refers to (a disconnect whose deletion failed, a first connect that died before its
 * commit) is deleted after the recovery window, and logged. Every decision is taken under the organisation's lock,
 * so a change in flight is never mistaken for a leftover.
 */

export type ReconcileReport = {
  records: number;
  restoredCurrent: number;
  markedUnreadable: number;
  orphansDeleted: number;
  purged: number;
  skipped: number;
};

const LOCK_WAIT_MS = 1_000;

export async function reconcileSecrets(deps: ConnectionDependencies): Promise<ReconcileReport> {
  const report: ReconcileReport = { records: 0, restoredCurrent: 0, markedUnreadable: 0, orphansDeleted: 0, purged: 0, skipped: 0 };
  const records = await deps.db.buildkiteConnection.findMany({ select: { organizationId: true, secretRef: true } });
  report.records = records.length;

  for (const { organizationId } of records) {
    const done = await withConnectionLock(deps.locks, organizationId, (lease) => reconcileRecord(deps, lease, report), { waitMs: LOCK_WAIT_MS }).catch(
      (error: unknown) => {
        log.error("buildkite.reconcile.record_failed", { organizationId }, error);
        return { ok: false as const };
      },
    );
    if (!done.ok) report.skipped += 1;
  }

  const referenced = new Set(records.map((record) => `${record.organizationId} ${record.secretRef}`));
  for (const secret of await deps.secrets.list()) {
    if (secret.deleted || referenced.has(`${secret.organizationId} ${secret.ref}`)) continue;
    const done = await withConnectionLock(
      deps.locks,
      secret.organizationId,
      async () => {
        // Look again under the lock: a first connect may have committed since the list was read.
        const current = await findConnectionForChange(deps.db, secret.organizationId);
        if (current?.secret.ref === secret.ref) return;
        await deps.secrets.deleteSecret(secret.organizationId, secret.ref);
        report.orphansDeleted += 1;
        log.warn("buildkite.reconcile.orphan_deleted", { organizationId: secret.organizationId, backend: deps.secrets.backend });
      },
      { waitMs: LOCK_WAIT_MS },
    ).catch((error: unknown) => {
      log.error("buildkite.reconcile.orphan_failed", { organizationId: secret.organizationId }, error);
      return { ok: false as const };
    });
    if (!done.ok) report.skipped += 1;
  }

  report.purged = await deps.secrets.purgeDeleted(deps.now?.());
  log.info("buildkite.reconcile.done", { ...report });
  return report;
}

async function reconcileRecord(deps: ConnectionDependencies, lease: ConnectionLease, report: ReconcileReport) {
  const { organizationId } = lease;
  const record = await findConnectionForChange(deps.db, organizationId);
  if (!record) return;
  try {
    if ((await deps.secrets.restoreCurrent(organizationId, record.secret)) === "restored") {
      report.restoredCurrent += 1;
      log.warn("buildkite.reconcile.restored_current", { organizationId });
    }
    await deps.secrets.read(organizationId, record.secret);
  } catch (error) {
    if (!(error instanceof SecretStoreError)) throw error;
    // A throttled or unreachable store proves nothing; the next run looks again.
    if (error.retryable) {
      report.skipped += 1;
      return;
    }
    if (record.status === "needs_attention" && record.attentionCode === "secret_unreadable") return;
    const health = attention({ code: "secret_unreadable", reason: error.code });
    await deps.db.$transaction(async (tx) => {
      await lease.fence(tx);
      if (!(await updateConnectionIfUnchanged(tx, organizationId, record.revision, healthColumns(health)))) return;
      await recordConnectionEvents(
        tx,
        {
          organizationId,
          actor: SCHEDULER,
          connection: { id: record.id, revision: record.revision + 1 },
          buildkiteOrganization: { slug: record.buildkiteOrgSlug, name: record.buildkiteOrgName },
          token: { uuid: record.tokenUuid, lastFour: record.tokenLastFour },
        },
        withAttention(record, health),
      );
      await recordAuditEvent(tx, {
        organizationId,
        actor: SCHEDULER,
        action: "buildkite.verify",
        outcome: "success",
        code: "needs_attention",
        detail: { tokenUuid: record.tokenUuid, tokenLastFour: record.tokenLastFour, statusFrom: record.status, statusTo: "needs_attention", reason: "secret_unreadable" },
      });
    });
    report.markedUnreadable += 1;
    log.warn("buildkite.reconcile.secret_unreadable", { organizationId, reason: error.code });
  }
}
