import "server-only";

import type { Actor } from "@/lib/audit/actor";
import type { Prisma } from "@/lib/generated/prisma/client";
import type { Attention, Health } from "./health";
import { describeAttention } from "./presentation/messages";
import type { NotificationEventType } from "@/lib/notifications/event-types";
import { recordNotification } from "@/lib/notifications/record";

/**
 * The events a change of a Buildkite connection sends, recorded in that change's transaction. Each change writes a
 * new revision of the record exactly once (every write is a compare-and-set on it), so "connection id + revision"
 * names the change: the dedupe key that makes it one event however often it is seen.
 */

export type ConnectionChange = {
  organizationId: string;
  actor: Actor;
  /** The record's id and the revision this change wrote. */
  connection: { id: string; revision: number };
  buildkiteOrganization: { slug: string; name: string };
  token: { uuid: string; lastFour: string };
};

type StatusBefore = { status: "connected" | "needs_attention"; attentionCode: string | null } | null;

/** needs_attention when the status (or its reason) became a problem; recovered when a problem went away. */
export function statusEvents(before: StatusBefore, after: Health): Array<"connection.needs_attention" | "connection.recovered"> {
  if (after.status === "needs_attention") {
    const same = before?.status === "needs_attention" && before.attentionCode === after.attention.code;
    return same ? [] : ["connection.needs_attention"];
  }
  return before?.status === "needs_attention" ? ["connection.recovered"] : [];
}

export function attentionReason(attention: Attention) {
  const text = describeAttention(attention);
  return { code: attention.code, problem: text.problem, fix: text.fix };
}

export async function recordConnectionEvents(
  tx: Prisma.TransactionClient,
  change: ConnectionChange,
  events: ReadonlyArray<{ type: NotificationEventType; attention?: Attention; previousToken?: { uuid: string; lastFour: string } }>,
): Promise<void> {
  for (const event of events) {
    await recordNotification(tx, {
      organizationId: change.organizationId,
      type: event.type,
      dedupeKey: `${event.type}:${change.connection.id}:${change.connection.revision}`,
      actor: change.actor,
      buildkiteOrganization: change.buildkiteOrganization,
      token: change.token,
      data: {
        ...(event.attention ? { reason: attentionReason(event.attention) } : {}),
        ...(event.previousToken ? { previousToken: event.previousToken } : {}),
      },
    });
  }
}

/** The status events of a change, with the attention they carry. */
export function withAttention(before: StatusBefore, after: Health) {
  return statusEvents(before, after).map((type) => ({
    type,
    ...(type === "connection.needs_attention" && after.status === "needs_attention" ? { attention: after.attention } : {}),
  }));
}
