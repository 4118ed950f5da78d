import { WEBHOOK_EVENT_TYPES, isWebhookEventType, type WebhookEventType } from "./event-types";
import { checkEndpointUrl, type UrlProblem } from "./ssrf-guard";

/** Reads the Add endpoint form: what is wrong with it, in words that say what to do. */

export const MAX_URL_LENGTH = 2048;

export type AddEndpointInput = { url: string; events: WebhookEventType[] };

export type AddEndpointParse =
  | { ok: true; input: AddEndpointInput }
  | { ok: false; field: "url" | "events"; message: string; values: { url: string; events: string[] } };

export function urlProblemMessage(problem: UrlProblem, allowPrivateNetworks: boolean): string {
  switch (problem) {
    case "invalid":
      return "Enter the full address of your receiver, such as https://hooks.example.com/gitar.";
    case "scheme":
      return allowPrivateNetworks
        ? "The address must start with https:// (or, on this development server, http://)."
        : "The address must start with https://: deliveries carry your organisation's details and must not travel unencrypted.";
    case "credentials":
      return "Remove the user name and password from the address. Your receiver can tell Gitar's requests apart by verifying the Gitar-Signature header instead.";
    case "private_address":
      return "This address is on a private network (loopback, private, link-local or a cloud metadata address), which webhooks may not reach. Use your receiver's public https:// address.";
  }
}

export function parseAddEndpoint(formData: FormData, allowPrivateNetworks: boolean): AddEndpointParse {
  const url = String(formData.get("url") ?? "").trim();
  const chosen = formData.getAll("events").map(String);
  // What refills the form is bounded, whatever a script posted: the field's limit, and only the known events.
  const values = { url: url.slice(0, MAX_URL_LENGTH), events: chosen.filter(isWebhookEventType) };
  if (url === "") return { ok: false, field: "url", message: "Enter the Endpoint URL: the address Gitar should send events to.", values };
  if (url.length > MAX_URL_LENGTH) return { ok: false, field: "url", message: `The address is longer than ${MAX_URL_LENGTH} characters. Use a shorter one.`, values };
  const checked = checkEndpointUrl(url, allowPrivateNetworks);
  if (!checked.ok) return { ok: false, field: "url", message: urlProblemMessage(checked.problem, allowPrivateNetworks), values };
  const events = WEBHOOK_EVENT_TYPES.filter((type) => chosen.includes(type));
  if (events.length === 0 || chosen.some((type) => !isWebhookEventType(type))) {
    return { ok: false, field: "events", message: "Choose at least one event to send (all are chosen by default).", values };
  }
  return { ok: true, input: { url: checked.url.toString(), events } };
}

/** An endpoint id from a form; null when it cannot be one (answered like an endpoint that does not exist). */
export function parseEndpointId(formData: FormData): string | null {
  const value = String(formData.get("endpointId") ?? "");
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value) ? value.toLowerCase() : null;
}
