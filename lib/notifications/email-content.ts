import { formatDate, formatDateTime } from "@/lib/format";
import type { NotificationPayload } from "./payload";

/**
 * The words of a notification email, as plain text and as HTML (every value escaped). Written from the payload's
 * facts only, so an email can say nothing a webhook does not — never a token.
 */

export type EmailContent = { subject: string; text: string; html: string };

const escapeHtml = (value: string) =>
  value.replace(/[&<>"']/g, (char) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[char]!);

function tokenLine(payload: NotificationPayload): string | null {
  if (!payload.token) return null;
  const organization = payload.buildkiteOrganization ? ` for the Buildkite organisation ${payload.buildkiteOrganization.name} (${payload.buildkiteOrganization.slug})` : "";
  return `The Buildkite token ending in ${payload.token.lastFour}${organization}.`;
}

export function composeEmail(payload: NotificationPayload, links: { integrations: string; notifications: string }): EmailContent {
  const organization = payload.organization.name;
  let subject: string;
  let lines: string[];
  switch (payload.type) {
    case "connection.needs_attention": {
      const reason = payload.data.reason;
      subject = `Buildkite needs attention in ${organization}`;
      lines = [reason?.problem ?? "The Buildkite connection needs attention.", tokenLine(payload) ?? "", `What to do: ${reason?.fix ?? "Open the Integrations page."}`];
      break;
    }
    case "connection.expiring": {
      const expiresAt = payload.data.expiresAt;
      subject = `A Buildkite token in ${organization} expires ${payload.data.daysBefore === 1 ? "within a day" : "within 7 days"}`;
      lines = [
        `The token expires on ${expiresAt ? formatDateTime(expiresAt) : "a date soon"}. When it does, Gitar stops analysing builds.`,
        tokenLine(payload) ?? "",
        "What to do: create a replacement token with the nine required scopes and use Rotate token on the Integrations page.",
      ];
      break;
    }
    case "endpoint.disabled": {
      const endpoint = payload.data.endpoint;
      subject = `A webhook endpoint in ${organization} was turned off`;
      lines = [
        `Deliveries to ${endpoint?.host ?? "a webhook endpoint"} have failed since ${endpoint ? formatDate(endpoint.failingSince) : "three days ago"}, so Gitar turned the endpoint off.`,
        `What to do: fix the receiver, then enable the endpoint again and send a test event on the Notifications page: ${links.notifications}`,
      ];
      break;
    }
    default:
      subject = `Gitar notification for ${organization}`;
      lines = [`Event: ${payload.type}.`, tokenLine(payload) ?? ""];
  }
  const body = lines.filter(Boolean);
  const footer = `You get this email as an admin of ${organization}. To stop these emails, turn them off on the Notifications page: ${links.notifications}`;
  const text = [...body, "", `Open Integrations: ${links.integrations}`, "", footer, ""].join("\n");
  const html = [
    "<!doctype html><html><body style=\"font-family: system-ui, sans-serif; line-height: 1.5\">",
    ...body.map((line) => `<p>${escapeHtml(line)}</p>`),
    `<p><a href="${escapeHtml(links.integrations)}">Open Integrations</a></p>`,
    `<p style="color: #555; font-size: 0.9em">${escapeHtml(footer)}</p>`,
    "</body></html>",
  ].join("\n");
  return { subject, text, html };
}
