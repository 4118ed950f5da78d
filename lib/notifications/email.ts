import "server-only";

import nodemailer from "nodemailer";
import type { Prisma } from "@/lib/generated/prisma/client";
import { log } from "@/lib/log";
import { nowOf, type NotificationDependencies } from "./dependencies";
import { composeEmail } from "./email-content";
import type { NotificationPayload } from "./payload";
import { DEFAULT_RETRY_SCHEDULE, retryDelayMs } from "./retry-policy";

/**
 * The email job: for each event waiting for its email, the organisation's admins (those who did not turn email off)
 * get one message with a plain-text and an HTML part. Without SMTP_URL, nothing is sent: the events are marked
 * skipped. A failed send is retried on the webhook schedule for up to a day.
 */

export type Mailer = {
  send(message: { from: string; to: string[]; subject: string; text: string; html: string }): Promise<void>;
  close(): void;
};

export function createMailer(smtpUrl: string, options: { timeoutMs?: number } = {}): Mailer {
  const timeout = options.timeoutMs ?? 10_000;
  const transport = nodemailer.createTransport(smtpUrl, { connectionTimeout: timeout, greetingTimeout: timeout, socketTimeout: timeout });
  return {
    async send(message) {
      await transport.sendMail(message);
    },
    close: () => transport.close(),
  };
}

export type EmailSettings = { mailer: Mailer | undefined; from: string; appUrl: string };

const CLAIM_LEASE_MS = 2 * 60 * 1000;

type ClaimedEvent = { id: string; organization_id: string; payload: Prisma.JsonValue; email_attempts: number; created_at: Date };

export async function sendDueEmails(deps: NotificationDependencies, settings: EmailSettings): Promise<{ emailed: number; emailFailed: number; emailSkipped: number }> {
  const now = nowOf(deps);
  const report = { emailed: 0, emailFailed: 0, emailSkipped: 0 };
  const claimed = await deps.db.$queryRaw<ClaimedEvent[]>`
    UPDATE notification_events SET next_email_at = ${new Date(now.getTime() + CLAIM_LEASE_MS)}
    WHERE id IN (
      SELECT id FROM notification_events
      WHERE email_state = 'pending' AND next_email_at <= ${now}
      ORDER BY next_email_at LIMIT 50
      FOR UPDATE SKIP LOCKED
    )
    RETURNING id, organization_id, payload, email_attempts, created_at`;

  for (const event of claimed) {
    const settle = (emailState: string, extra: Prisma.NotificationEventUpdateInput = {}) =>
      deps.db.notificationEvent.update({ where: { id: event.id }, data: { emailState, nextEmailAt: null, ...extra } });
    if (!settings.mailer) {
      await settle("skipped");
      report.emailSkipped += 1;
      continue;
    }
    const recipients = await adminRecipients(deps, event.organization_id);
    if (recipients.length === 0) {
      await settle("skipped");
      report.emailSkipped += 1;
      continue;
    }
    const content = composeEmail(event.payload as unknown as NotificationPayload, {
      integrations: `${settings.appUrl}/settings/integrations`,
      notifications: `${settings.appUrl}/settings/notifications`,
    });
    try {
      await settings.mailer.send({ from: settings.from, to: recipients, ...content });
      await settle("sent", { emailAttempts: { increment: 1 } });
      report.emailed += 1;
      log.info("notifications.email.sent", { eventId: event.id, organizationId: event.organization_id, recipients: recipients.length });
    } catch (error) {
      const attempts = event.email_attempts + 1;
      const retryAt = new Date(now.getTime() + retryDelayMs(attempts, deps.retry ?? DEFAULT_RETRY_SCHEDULE, deps.random));
      const giveUp = retryAt.getTime() - event.created_at.getTime() > (deps.retry ?? DEFAULT_RETRY_SCHEDULE).giveUpAfterMs;
      await deps.db.notificationEvent.update({
        where: { id: event.id },
        data: { emailAttempts: attempts, emailState: giveUp ? "failed" : "pending", nextEmailAt: giveUp ? null : retryAt },
      });
      report.emailFailed += 1;
      // nodemailer's messages can quote the server's reply; its name and code are what an operator needs.
      log.warn("notifications.email.failed", { eventId: event.id, attempt: attempts, gaveUp: giveUp }, error);
    }
  }
  return report;
}

/** The organisation's admins, minus those who turned notification email off. */
export async function adminRecipients(deps: Pick<NotificationDependencies, "db">, organizationId: string): Promise<string[]> {
  const admins = await deps.db.membership.findMany({
    where: {
      organizationId,
      role: "admin",
      user: { emailPreferences: { none: { organizationId, emailEnabled: false } } },
    },
    select: { user: { select: { email: true } } },
    orderBy: { createdAt: "asc" },
  });
  return admins.map((admin) => admin.user.email);
}
