import { Badge } from "@/components/ui/badge";
import { formatTimestamp } from "@/lib/format";
import type { DeliveryView } from "@/lib/notifications/endpoint-view";

const STATE: Record<DeliveryView["state"], { tone: "success" | "warning" | "danger"; label: string }> = {
  delivered: { tone: "success", label: "Delivered" },
  pending: { tone: "warning", label: "Retrying" },
  failed: { tone: "danger", label: "Failed" },
};

/** Why an attempt failed, in words (the codes come from deliver.ts; never a response body). */
function describeError(error: string | null): string | null {
  if (!error) return null;
  if (error.startsWith("http_")) return `The receiver answered ${error.slice(5)}`;
  const words: Record<string, string> = {
    timeout: "No answer in time",
    connection_failed: "Could not connect",
    redirect_not_followed: "The receiver redirected; redirects are not followed",
    blocked_private_address: "Refused: the name resolves to a private address",
    blocked_scheme: "Refused: the address must be https://",
    blocked_credentials: "Refused: the address holds a password",
    blocked_invalid: "Refused: not a valid address",
    endpoint_disabled: "Not sent: the endpoint is disabled",
    secret_unreadable: "Not sent: the signing secret cannot be decrypted on this server (roll it)",
  };
  return words[error] ?? error;
}

/** The endpoint's last deliveries, newest first: event, time, status code, attempt, duration. */
export function DeliveryLog({ deliveries, host }: { deliveries: readonly DeliveryView[]; host: string }) {
  if (deliveries.length === 0) return <p className="muted">No deliveries yet. Send a test event to try the endpoint.</p>;
  return (
    <div className="table-wrap">
      <table className="api-keys-table delivery-log">
        <caption className="visually-hidden">Delivery log of {host}: the last {deliveries.length} deliveries, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Event</th>
            <th scope="col">Time</th>
            <th scope="col">Status code</th>
            <th scope="col">Attempt</th>
            <th scope="col">Duration</th>
            <th scope="col">Result</th>
          </tr>
        </thead>
        <tbody>
          {deliveries.map((delivery) => {
            const error = describeError(delivery.error);
            return (
              <tr key={delivery.id}>
                <th scope="row">
                  <code>{delivery.eventType}</code>
                </th>
                <td data-label="Time">
                  <time dateTime={delivery.lastAttemptAt ?? delivery.createdAt}>{formatTimestamp(delivery.lastAttemptAt ?? delivery.createdAt)}</time>
                </td>
                <td data-label="Status code">{delivery.statusCode ?? "—"}</td>
                <td data-label="Attempt">{delivery.attempts}</td>
                <td data-label="Duration">{delivery.durationMs === null ? "—" : `${delivery.durationMs} ms`}</td>
                <td data-label="Result">
                  <Badge tone={STATE[delivery.state].tone}>{delivery.attempts === 0 && delivery.state === "pending" ? "Queued" : STATE[delivery.state].label}</Badge>
                  {error ? <span className="api-keys-table__by">{error}</span> : null}
                  {delivery.nextAttemptAt && delivery.attempts > 0 ? (
                    <span className="api-keys-table__by">Next attempt {formatTimestamp(delivery.nextAttemptAt)}</span>
                  ) : null}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
