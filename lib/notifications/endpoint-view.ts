import "server-only";

import type { Database } from "@/lib/db/client";

/**
 * What the Notifications page shows: each endpoint with its last 100 deliveries. Selected field by field, so no
 * ciphertext of a signing secret ever reaches the page.
 */

export const DELIVERY_LOG_SIZE = 100;

export type DeliveryView = {
  id: string;
  eventType: string;
  createdAt: string;
  state: "pending" | "delivered" | "failed";
  attempts: number;
  lastAttemptAt: string | null;
  statusCode: number | null;
  error: string | null;
  durationMs: number | null;
  nextAttemptAt: string | null;
};

export type EndpointView = {
  id: string;
  url: string;
  events: string[];
  enabled: boolean;
  disabledReason: "manual" | "failing" | null;
  disabledAt: string | null;
  /** While a rolled secret's predecessor still signs too. */
  previousSecretValidUntil: string | null;
  createdAt: string;
  deliveries: DeliveryView[];
};

export async function listEndpointsForDisplay(db: Database, organizationId: string, now = new Date()): Promise<EndpointView[]> {
  const endpoints = await db.webhookEndpoint.findMany({
    where: { organizationId },
    orderBy: { createdAt: "asc" },
    select: {
      id: true,
      url: true,
      events: true,
      enabled: true,
      disabledReason: true,
      disabledAt: true,
      previousSecretExpiresAt: true,
      createdAt: true,
      deliveries: {
        orderBy: [{ createdAt: "desc" }, { id: "desc" }],
        take: DELIVERY_LOG_SIZE,
        select: {
          id: true,
          eventType: true,
          createdAt: true,
          state: true,
          attempts: true,
          lastAttemptAt: true,
          lastStatusCode: true,
          lastError: true,
          lastDurationMs: true,
          nextAttemptAt: true,
        },
      },
    },
  });
  return endpoints.map((endpoint) => ({
    id: endpoint.id,
    url: endpoint.url,
    events: endpoint.events,
    enabled: endpoint.enabled,
    disabledReason: endpoint.disabledReason === "failing" ? "failing" : endpoint.disabledReason === "manual" ? "manual" : null,
    disabledAt: endpoint.disabledAt?.toISOString() ?? null,
    previousSecretValidUntil: endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt > now ? endpoint.previousSecretExpiresAt.toISOString() : null,
    createdAt: endpoint.createdAt.toISOString(),
    deliveries: endpoint.deliveries.map((delivery) => ({
      id: delivery.id,
      eventType: delivery.eventType,
      createdAt: delivery.createdAt.toISOString(),
      state: delivery.state === "delivered" ? "delivered" : delivery.state === "failed" ? "failed" : "pending",
      attempts: delivery.attempts,
      lastAttemptAt: delivery.lastAttemptAt?.toISOString() ?? null,
      statusCode: delivery.lastStatusCode,
      error: delivery.lastError,
      durationMs: delivery.lastDurationMs,
      nextAttemptAt: delivery.state === "pending" ? (delivery.nextAttemptAt?.toISOString() ?? null) : null,
    })),
  }));
}

export async function emailEnabledFor(db: Database, userId: string, organizationId: string): Promise<boolean> {
  const preference = await db.notificationEmailPreference.findUnique({
    where: { userId_organizationId: { userId, organizationId } },
    select: { emailEnabled: true },
  });
  return preference?.emailEnabled ?? true;
}

/** Whether a delivery is queued, or due again within the minute: the page then keeps its log fresh. */
export function deliveriesDueSoon(endpoints: readonly EndpointView[], now = new Date()): boolean {
  const soon = now.getTime() + 60_000;
  return endpoints.some((endpoint) =>
    endpoint.deliveries.some(
      (delivery) => delivery.state === "pending" && (delivery.attempts === 0 || (delivery.nextAttemptAt !== null && Date.parse(delivery.nextAttemptAt) < soon)),
    ),
  );
}
