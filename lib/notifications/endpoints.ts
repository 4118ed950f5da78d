import "server-only";

import { randomUUID } from "node:crypto";
import type { Actor } from "@/lib/audit/actor";
import { recordAuditEvent } from "@/lib/audit/record";
import { nowOf, type NotificationDependencies } from "./dependencies";
import type { WebhookEventType } from "./event-types";
import { recordNotification } from "./record";
import { generateSigningSecret } from "./signature";

/**
 * Webhook endpoints, as admins manage them: add (the signing secret is returned this once), disable, enable, delete,
 * roll the secret (the old one keeps signing beside the new one for a day), send a test event. Each change is
 * audited in its own transaction. Every call is scoped to the caller's organisation: another organisation's
 * endpoint id is "not found".
 */

export const MAX_ENDPOINTS_PER_ORGANIZATION = 10;
export const PREVIOUS_SECRET_VALID_MS = 24 * 60 * 60 * 1000;

export type EndpointFailure = { code: "not_found" } | { code: "too_many_endpoints"; max: number };

export type EndpointResult<T = object> = ({ ok: true } & T) | { ok: false; failure: EndpointFailure };

type Subject = { organizationId: string; actor: Actor };

/** The host alone: a receiver's URL path or query may hold a secret of its own (as Slack's do). */
export const hostOfUrl = (url: string) => (URL.canParse(url) ? new URL(url).host : "");

export async function createEndpoint(
  deps: NotificationDependencies,
  request: Subject & { url: string; events: readonly WebhookEventType[] },
): Promise<EndpointResult<{ endpointId: string; secret: string }>> {
  const id = randomUUID();
  const secret = generateSigningSecret();
  const sealed = await deps.box.seal(id, secret);
  const created = await deps.db.$transaction(async (tx) => {
    // Counted in the transaction that inserts, under a lock on the organisation's row, so two admins adding at once
    // cannot both take the last place.
    await tx.$executeRaw`SELECT 1 FROM organizations WHERE id = ${request.organizationId}::uuid FOR UPDATE`;
    const count = await tx.webhookEndpoint.count({ where: { organizationId: request.organizationId } });
    if (count >= MAX_ENDPOINTS_PER_ORGANIZATION) return false;
    await tx.webhookEndpoint.create({
      data: {
        id,
        organizationId: request.organizationId,
        url: request.url,
        events: [...request.events],
        secretCiphertext: sealed,
        createdById: request.actor.type === "person" ? request.actor.userId : null,
        createdAt: nowOf(deps),
      },
    });
    await recordAuditEvent(tx, {
      organizationId: request.organizationId,
      actor: request.actor,
      action: "webhook.create",
      outcome: "success",
      detail: { endpointId: id, endpointHost: hostOfUrl(request.url), events: [...request.events] },
    });
    return true;
  });
  if (!created) return { ok: false, failure: { code: "too_many_endpoints", max: MAX_ENDPOINTS_PER_ORGANIZATION } };
  return { ok: true, endpointId: id, secret };
}

export async function setEndpointEnabled(
  deps: NotificationDependencies,
  request: Subject & { endpointId: string; enabled: boolean },
): Promise<EndpointResult<{ host: string }>> {
  return deps.db.$transaction(async (tx) => {
    const endpoint = await tx.webhookEndpoint.findFirst({ where: { id: request.endpointId, organizationId: request.organizationId }, select: { url: true } });
    if (!endpoint) return { ok: false as const, failure: { code: "not_found" as const } };
    await tx.webhookEndpoint.update({
      where: { id: request.endpointId },
      data: request.enabled
        ? { enabled: true, disabledReason: null, disabledAt: null, failingSince: null }
        : { enabled: false, disabledReason: "manual", disabledAt: nowOf(deps) },
    });
    await recordAuditEvent(tx, {
      organizationId: request.organizationId,
      actor: request.actor,
      action: request.enabled ? "webhook.enable" : "webhook.disable",
      outcome: "success",
      detail: { endpointId: request.endpointId, endpointHost: hostOfUrl(endpoint.url) },
    });
    return { ok: true as const, host: hostOfUrl(endpoint.url) };
  });
}

export async function deleteEndpoint(deps: NotificationDependencies, request: Subject & { endpointId: string }): Promise<EndpointResult<{ host: string }>> {
  return deps.db.$transaction(async (tx) => {
    const endpoint = await tx.webhookEndpoint.findFirst({ where: { id: request.endpointId, organizationId: request.organizationId }, select: { url: true } });
    if (!endpoint) return { ok: false as const, failure: { code: "not_found" as const } };
    await tx.webhookEndpoint.delete({ where: { id: request.endpointId } });
    await recordAuditEvent(tx, {
      organizationId: request.organizationId,
      actor: request.actor,
      action: "webhook.delete",
      outcome: "success",
      detail: { endpointId: request.endpointId, endpointHost: hostOfUrl(endpoint.url) },
    });
    return { ok: true as const, host: hostOfUrl(endpoint.url) };
  });
}

/** A new secret now; the current one keeps signing (beside it) for PREVIOUS_SECRET_VALID_MS. */
export async function rollEndpointSecret(
  deps: NotificationDependencies,
  request: Subject & { endpointId: string },
): Promise<EndpointResult<{ secret: string; previousValidUntil: string; host: string }>> {
  const secret = generateSigningSecret();
  const sealed = await deps.box.seal(request.endpointId, secret);
  const previousValidUntil = new Date(nowOf(deps).getTime() + PREVIOUS_SECRET_VALID_MS);
  return deps.db.$transaction(async (tx) => {
    const endpoint = await tx.webhookEndpoint.findFirst({
      where: { id: request.endpointId, organizationId: request.organizationId },
      select: { url: true, secretCiphertext: true },
    });
    if (!endpoint) return { ok: false as const, failure: { code: "not_found" as const } };
    await tx.webhookEndpoint.update({
      where: { id: request.endpointId },
      data: { secretCiphertext: sealed, previousSecretCiphertext: endpoint.secretCiphertext, previousSecretExpiresAt: previousValidUntil },
    });
    await recordAuditEvent(tx, {
      organizationId: request.organizationId,
      actor: request.actor,
      action: "webhook.roll_secret",
      outcome: "success",
      detail: { endpointId: request.endpointId, endpointHost: hostOfUrl(endpoint.url), expiresAt: previousValidUntil.toISOString() },
    });
    return { ok: true as const, secret, previousValidUntil: previousValidUntil.toISOString(), host: hostOfUrl(endpoint.url) };
  });
}

/** Queues a `test` event for one endpoint (enabled or not: testing before re-enabling is the point). */
export async function sendTestEvent(deps: NotificationDependencies, request: Subject & { endpointId: string }): Promise<EndpointResult<{ host: string }>> {
  return deps.db.$transaction(async (tx) => {
    const endpoint = await tx.webhookEndpoint.findFirst({ where: { id: request.endpointId, organizationId: request.organizationId }, select: { url: true } });
    if (!endpoint) return { ok: false as const, failure: { code: "not_found" as const } };
    const connection = await tx.buildkiteConnection.findUnique({
      where: { organizationId: request.organizationId },
      select: { buildkiteOrgSlug: true, buildkiteOrgName: true, tokenUuid: true, tokenLastFour: true },
    });
    await recordNotification(tx, {
      organizationId: request.organizationId,
      type: "test",
      dedupeKey: `test:${randomUUID()}`,
      actor: request.actor,
      endpointId: request.endpointId,
      buildkiteOrganization: connection ? { slug: connection.buildkiteOrgSlug, name: connection.buildkiteOrgName } : null,
      token: connection ? { uuid: connection.tokenUuid, lastFour: connection.tokenLastFour } : null,
      data: { message: "A test event from Gitar. If you can read this, your endpoint receives and can verify Gitar's webhooks." },
      now: nowOf(deps),
    });
    await recordAuditEvent(tx, {
      organizationId: request.organizationId,
      actor: request.actor,
      action: "webhook.test",
      outcome: "success",
      detail: { endpointId: request.endpointId, endpointHost: hostOfUrl(endpoint.url) },
    });
    return { ok: true as const, host: hostOfUrl(endpoint.url) };
  });
}

export async function setEmailEnabled(deps: NotificationDependencies, request: Subject & { userId: string; enabled: boolean }): Promise<void> {
  await deps.db.$transaction(async (tx) => {
    await tx.notificationEmailPreference.upsert({
      where: { userId_organizationId: { userId: request.userId, organizationId: request.organizationId } },
      create: { userId: request.userId, organizationId: request.organizationId, emailEnabled: request.enabled },
      update: { emailEnabled: request.enabled },
    });
    await recordAuditEvent(tx, {
      organizationId: request.organizationId,
      actor: request.actor,
      action: "notifications.email",
      outcome: "success",
      detail: { emailEnabled: request.enabled },
    });
  });
}
