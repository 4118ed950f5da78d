import "server-only";

import { SCHEDULER } from "@/lib/audit/actor";
import { nowOf, type NotificationDependencies } from "./dependencies";
import { recordNotification } from "./record";

/**
 * `connection.expiring`, 7 days and 1 day before a token's expiry, once each: the dedupe key names the token and the
 * warning, so the hourly run (and any number of runners) sends each one once. A token found already within a day
 * gets only the one-day warning: two warnings at once would say the same thing twice.
 */

const DAY_MS = 24 * 60 * 60 * 1000;

export async function recordExpiringTokens(deps: NotificationDependencies): Promise<{ expiring: number }> {
  const now = nowOf(deps);
  const connections = await deps.db.buildkiteConnection.findMany({
    where: { tokenExpiresAt: { gt: now, lte: new Date(now.getTime() + 7 * DAY_MS) } },
    select: { organizationId: true, buildkiteOrgSlug: true, buildkiteOrgName: true, tokenUuid: true, tokenLastFour: true, tokenExpiresAt: true },
  });
  let expiring = 0;
  for (const connection of connections) {
    const expiresAt = connection.tokenExpiresAt!;
    const daysBefore = expiresAt.getTime() - now.getTime() <= DAY_MS ? 1 : 7;
    const recorded = await deps.db.$transaction((tx) =>
      recordNotification(tx, {
        organizationId: connection.organizationId,
        type: "connection.expiring",
        dedupeKey: `connection.expiring:${connection.tokenUuid}:${daysBefore}d`,
        actor: SCHEDULER,
        buildkiteOrganization: { slug: connection.buildkiteOrgSlug, name: connection.buildkiteOrgName },
        token: { uuid: connection.tokenUuid, lastFour: connection.tokenLastFour },
        data: { expiresAt: expiresAt.toISOString(), daysBefore },
        now,
      }),
    );
    if (recorded.recorded) expiring += 1;
  }
  return { expiring };
}
