import "server-only";

import { randomUUID } from "node:crypto";
import type { Actor } from "@/lib/audit/actor";
import type { Prisma } from "@/lib/generated/prisma/client";
import { EMAIL_EVENT_TYPES, type NotificationEventType } from "./event-types";
import type { NotificationActor, NotificationData, NotificationPayload } from "./payload";

/**
 * Records an event in the transaction of the change it reports (a transactional outbox): the change and its event
 * commit together or not at all, and the job runner delivers it afterwards. `dedupeKey` names the change itself (a
 * connection's revision, a token's expiry warning), so however many checks, retries or runners see one change, it
 * is one event. Fan-out happens here too: one delivery per enabled endpoint that wants the type, so an endpoint added
 * later does not receive old events.
 */

/** Wakes the job runner (it LISTENs on this channel); Postgres sends it only when the transaction commits. */
export const NOTIFY_CHANNEL = "gitar_notifications";

export type NotificationInput = {
  organizationId: string;
  type: NotificationEventType;
  dedupeKey: string;
  actor: Actor;
  buildkiteOrganization?: { slug: string; name: string } | null;
  token?: { uuid: string; lastFour: string } | null;
  data?: NotificationData;
  /** `test`: only this endpoint. */
  endpointId?: string;
  now?: Date;
};

export type Recorded = { recorded: true; eventId: string; deliveries: number } | { recorded: false };

export function notificationActor(actor: Actor): NotificationActor {
  switch (actor.type) {
    case "person":
      return { type: "person", email: actor.email };
    case "api_key":
      return { type: "api_key", name: actor.name };
    case "scheduler":
      return { type: "scheduler" };
  }
}

export async function recordNotification(tx: Prisma.TransactionClient, input: NotificationInput): Promise<Recorded> {
  const organization = await tx.organization.findUnique({ where: { id: input.organizationId }, select: { id: true, name: true } });
  if (!organization) return { recorded: false };
  const now = input.now ?? new Date();
  const id = randomUUID();
  const payload: NotificationPayload = {
    id,
    type: input.type,
    createdAt: now.toISOString(),
    organization,
    buildkiteOrganization: input.buildkiteOrganization ?? null,
    token: input.token ?? null,
    actor: notificationActor(input.actor),
    data: input.data ?? {},
  };
  const emails = EMAIL_EVENT_TYPES.includes(input.type) && !(input.type === "connection.needs_attention" && input.data?.reason?.code === "expires_soon");
  const { count } = await tx.notificationEvent.createMany({
    data: [
      {
        id,
        organizationId: input.organizationId,
        type: input.type,
        dedupeKey: input.dedupeKey,
        payload: JSON.parse(JSON.stringify(payload)) as Prisma.InputJsonObject,
        createdAt: now,
        // The expiring warning says the same as "expires soon", and says it once: no second email for it.
        emailState: emails ? "pending" : null,
        nextEmailAt: emails ? now : null,
      },
    ],
    skipDuplicates: true,
  });
  if (count === 0) return { recorded: false };

  const endpoints = await tx.webhookEndpoint.findMany({
    where:
      input.type === "test"
        ? { id: input.endpointId, organizationId: input.organizationId }
        : { organizationId: input.organizationId, enabled: true, events: { has: input.type } },
    select: { id: true },
  });
  if (endpoints.length > 0) {
    await tx.webhookDelivery.createMany({
      data: endpoints.map((endpoint) => ({ endpointId: endpoint.id, eventId: id, eventType: input.type, state: "pending", nextAttemptAt: now })),
    });
  }
  if (endpoints.length > 0 || emails) await tx.$executeRawUnsafe(`SELECT pg_notify('${NOTIFY_CHANNEL}', '')`);
  return { recorded: true, eventId: id, deliveries: endpoints.length };
}
