/**
 * The events admins can be told about, with the words the page uses. One list, so the recorder, the endpoint form,
 * the payload and the README agree. Safe for client components: names and labels only.
 */
export const WEBHOOK_EVENTS = {
  "connection.needs_attention": "Needs attention (with the reason and the fix)",
  "connection.recovered": "Recovered",
  "connection.expiring": "Token expiring (7 days and 1 day before)",
  "connection.connected": "Connected",
  "connection.rotated": "Token rotated",
  "connection.disconnected": "Disconnected",
} as const;

export type WebhookEventType = keyof typeof WEBHOOK_EVENTS;

export const WEBHOOK_EVENT_TYPES = Object.keys(WEBHOOK_EVENTS) as WebhookEventType[];

/** `test` goes only to the endpoint it was sent to; `endpoint.disabled` only by email (its endpoint is the one failing). */
export type NotificationEventType = WebhookEventType | "test" | "endpoint.disabled";

/** What admins get an email about (when SMTP_URL is set and they have not turned it off). */
export const EMAIL_EVENT_TYPES: readonly NotificationEventType[] = ["connection.needs_attention", "connection.expiring", "endpoint.disabled"];

export function isWebhookEventType(value: unknown): value is WebhookEventType {
  return typeof value === "string" && Object.hasOwn(WEBHOOK_EVENTS, value);
}
