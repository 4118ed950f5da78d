import type { NotificationEventType } from "./event-types";

/**
 * The body every delivery carries (and emails are written from). Facts that identify — never a token, nor anything
 * that unlocks one: the token is named by Buildkite's UUID and its last four characters only.
 */
export type NotificationActor =
  | { type: "person"; email: string }
  | { type: "scheduler" }
  | { type: "api_key"; name: string };

export type NotificationPayload = {
  /** The event's id: the same in every delivery of it (each delivery also has its own id, in `Gitar-Delivery`). */
  id: string;
  type: NotificationEventType;
  /** When it happened, ISO 8601. */
  createdAt: string;
  organization: { id: string; name: string };
  buildkiteOrganization: { slug: string; name: string } | null;
  token: { uuid: string; lastFour: string } | null;
  actor: NotificationActor;
  data: NotificationData;
};

export type NotificationData = {
  /** connection.needs_attention: why, and what to do (the card's own words). */
  reason?: { code: string; problem: string; fix: string };
  /** connection.expiring: when the token expires, and which warning this is. */
  expiresAt?: string;
  daysBefore?: 7 | 1;
  /** connection.rotated: the token it replaced. */
  previousToken?: { uuid: string; lastFour: string };
  /** endpoint.disabled: which endpoint (its host only: a URL's path can hold a secret). */
  endpoint?: { id: string; host: string; failingSince: string };
  /** test: a sentence for whoever reads the receiver's log. */
  message?: string;
};
