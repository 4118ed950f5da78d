import "server-only";

import { SCHEDULER } from "@/lib/audit/actor";
import { recordAuditEvent } from "@/lib/audit/record";
import { log } from "@/lib/log";
import { DEFAULT_DELIVERY_TIMEOUT_MS, nowOf, type NotificationDependencies } from "./dependencies";
import { postWebhook } from "./deliver-http";
import { hostOfUrl } from "./endpoints";
import { recordNotification } from "./record";
import { DEFAULT_RETRY_SCHEDULE, DISABLE_AFTER_FAILING_MS, isRetryable, retryDelayMs, type AttemptOutcome } from "./retry-policy";
import { DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, signatureHeader } from "./signature";

/**
 * The delivery job: claims the deliveries that are due, makes one attempt at each, and records how it went — and
 * when to try again. A run claims by pushing `next_attempt_at` forward in the statement that selects them
 * (FOR UPDATE SKIP LOCKED), so two runners never send one delivery at once, and a runner that dies mid-attempt
 * leaves its claims to be retried when the lease runs out. A delivery keeps its id across attempts: receivers drop
 * duplicates by it.
 */

const CLAIM_LEASE_MS = 2 * 60 * 1000;

export type DeliveryRun = { delivered: number; retrying: number; failed: number; endpointsDisabled: number; wakeInMs?: number };

type Claimed = { id: string; endpoint_id: string; event_id: string; event_type: string; attempts: number; created_at: Date };

export async function deliverDueWebhooks(deps: NotificationDependencies, options: { limit?: number; concurrency?: number } = {}): Promise<DeliveryRun> {
  const now = nowOf(deps);
  const claimed = await deps.db.$queryRaw<Claimed[]>`
    UPDATE webhook_deliveries SET next_attempt_at = ${new Date(now.getTime() + CLAIM_LEASE_MS)}
    WHERE id IN (
      SELECT id FROM webhook_deliveries
      WHERE state = 'pending' AND next_attempt_at <= ${now}
      ORDER BY next_attempt_at LIMIT ${options.limit ?? 50}
      FOR UPDATE SKIP LOCKED
    )
    RETURNING id, endpoint_id, event_id, event_type, attempts, created_at`;

  const run: DeliveryRun = { delivered: 0, retrying: 0, failed: 0, endpointsDisabled: 0 };
  const queue = [...claimed];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      try {
        const result = await attempt(deps, next);
        run[result] += 1;
        if (result === "failed" || result === "retrying") run.endpointsDisabled += await disableIfFailingTooLong(deps, next.endpoint_id);
      } catch (error) {
        // The claim's lease brings it back; one broken row must not stop the others.
        log.error("notifications.delivery.unexpected", { deliveryId: next.id }, error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 8, Math.max(queue.length, 1)) }, worker));

  const upcoming = await deps.db.webhookDelivery.findFirst({
    where: { state: "pending" },
    orderBy: { nextAttemptAt: "asc" },
    select: { nextAttemptAt: true },
  });
  if (upcoming?.nextAttemptAt) run.wakeInMs = Math.max(0, upcoming.nextAttemptAt.getTime() - nowOf(deps).getTime());
  return run;
}

async function attempt(deps: NotificationDependencies, delivery: Claimed): Promise<"delivered" | "retrying" | "failed"> {
  const [endpoint, event] = await Promise.all([
    deps.db.webhookEndpoint.findUnique({
      where: { id: delivery.endpoint_id },
      select: { url: true, enabled: true, secretCiphertext: true, previousSecretCiphertext: true, previousSecretExpiresAt: true },
    }),
    deps.db.notificationEvent.findUnique({ where: { id: delivery.event_id }, select: { payload: true } }),
  ]);
  const now = nowOf(deps);
  const finish = (error: string) =>
    deps.db.webhookDelivery.update({ where: { id: delivery.id }, data: { state: "failed", nextAttemptAt: null, lastError: error } }).then(() => "failed" as const);
  if (!endpoint || !event) return finish("endpoint_deleted");
  // A disabled endpoint gets nothing more, except the test an admin sends on purpose.
  if (!endpoint.enabled && delivery.event_type !== "test") return finish("endpoint_disabled");

  const secrets = [await deps.box.open(delivery.endpoint_id, endpoint.secretCiphertext)];
  if (endpoint.previousSecretCiphertext && endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt > now) {
    secrets.push(await deps.box.open(delivery.endpoint_id, endpoint.previousSecretCiphertext));
  }
  if (secrets[0] === null) {
    log.error("notifications.delivery.secret_unreadable", { deliveryId: delivery.id, endpointId: delivery.endpoint_id });
    return finish("secret_unreadable");
  }

  const body = JSON.stringify(event.payload);
  const timestamp = Math.floor(now.getTime() / 1000);
  const sent = await postWebhook(
    endpoint.url,
    body,
    {
      [SIGNATURE_HEADER]: signatureHeader(secrets.filter((secret): secret is string => secret !== null), timestamp, body),
      [DELIVERY_HEADER]: delivery.id,
      [EVENT_HEADER]: delivery.event_type,
    },
    { timeoutMs: deps.timeoutMs ?? DEFAULT_DELIVERY_TIMEOUT_MS, allowPrivateNetworks: deps.allowPrivateNetworks, resolver: deps.resolver },
  );

  const attempts = delivery.attempts + 1;
  const outcome = sent.outcome;
  const schedule = deps.retry ?? DEFAULT_RETRY_SCHEDULE;
  const retryAt = new Date(now.getTime() + retryDelayMs(attempts, schedule, deps.random));
  const retry = isRetryable(outcome) && retryAt.getTime() - delivery.created_at.getTime() <= schedule.giveUpAfterMs;
  const state = outcome.kind === "delivered" ? "delivered" : retry ? "pending" : "failed";
  await deps.db.webhookDelivery.update({
    where: { id: delivery.id },
    data: {
      state,
      attempts,
      lastAttemptAt: now,
      lastStatusCode: "status" in outcome ? outcome.status : null,
      lastError: errorCode(outcome),
      lastDurationMs: sent.durationMs,
      nextAttemptAt: state === "pending" ? retryAt : null,
    },
  });
  await deps.db.webhookEndpoint.updateMany({
    where: { id: delivery.endpoint_id, ...(outcome.kind === "delivered" ? {} : { failingSince: null }) },
    data: { failingSince: outcome.kind === "delivered" ? null : now },
  });
  log.info("notifications.delivery.attempted", {
    deliveryId: delivery.id,
    endpointId: delivery.endpoint_id,
    event: delivery.event_type,
    attempt: attempts,
    status: "status" in outcome ? outcome.status : null,
    error: errorCode(outcome),
    ms: sent.durationMs,
    state,
  });
  return state === "delivered" ? "delivered" : state === "pending" ? "retrying" : "failed";
}

/** A short, fixed code for the log and the page: never a response body, which could echo anything. */
export function errorCode(outcome: AttemptOutcome): string | null {
  switch (outcome.kind) {
    case "delivered":
      return null;
    case "http_error":
      return outcome.status >= 300 && outcome.status < 400 ? "redirect_not_followed" : `http_${outcome.status}`;
    case "timeout":
      return "timeout";
    case "connection_failed":
      return "connection_failed";
    case "blocked":
      return `blocked_${outcome.reason}`;
  }
}

/** Three days of failures without one success: the endpoint is turned off, audited, and the admins are emailed. */
async function disableIfFailingTooLong(deps: NotificationDependencies, endpointId: string): Promise<number> {
  const now = nowOf(deps);
  return deps.db.$transaction(async (tx) => {
    const endpoint = await tx.webhookEndpoint.findUnique({
      where: { id: endpointId },
      select: { organizationId: true, url: true, enabled: true, failingSince: true },
    });
    if (!endpoint?.enabled || !endpoint.failingSince || now.getTime() - endpoint.failingSince.getTime() < DISABLE_AFTER_FAILING_MS) return 0;
    const { count } = await tx.webhookEndpoint.updateMany({
      where: { id: endpointId, enabled: true },
      data: { enabled: false, disabledReason: "failing", disabledAt: now },
    });
    if (count === 0) return 0;
    const failingSince = endpoint.failingSince.toISOString();
    await recordAuditEvent(tx, {
      organizationId: endpoint.organizationId,
      actor: SCHEDULER,
      action: "webhook.disable",
      outcome: "success",
      code: "failing",
      detail: { endpointId, endpointHost: hostOfUrl(endpoint.url), reason: `failing since ${failingSince}` },
    });
    await recordNotification(tx, {
      organizationId: endpoint.organizationId,
      type: "endpoint.disabled",
      dedupeKey: `endpoint.disabled:${endpointId}:${failingSince}`,
      actor: SCHEDULER,
      data: { endpoint: { id: endpointId, host: hostOfUrl(endpoint.url), failingSince } },
      now,
    });
    log.warn("notifications.endpoint.disabled", { endpointId, organizationId: endpoint.organizationId, failingSince });
    return 1;
  });
}
