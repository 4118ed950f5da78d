import { Badge } from "@/components/ui/badge";
import { formatDateTime } from "@/lib/format";
import type { EndpointView } from "@/lib/notifications/endpoint-view";
import { DeliveryLog } from "./delivery-log";
import { EndpointControls, type EndpointActions } from "./endpoint-controls";

const hostOf = (url: string) => (URL.canParse(url) ? new URL(url).host : url);

/** One endpoint: its address, state and events, its buttons, and its delivery log. */
export function EndpointCard({ endpoint, actions }: { endpoint: EndpointView; actions: EndpointActions }) {
  const host = hostOf(endpoint.url);
  const titleId = `endpoint-${endpoint.id}-title`;
  return (
    <section className="card" aria-labelledby={titleId}>
      <div className="card__body endpoint">
        <div className="endpoint__header">
          <h3 id={titleId} className="endpoint__url">
            {endpoint.url}
          </h3>
          {endpoint.enabled ? (
            <Badge tone="success">Enabled</Badge>
          ) : (
            <Badge tone={endpoint.disabledReason === "failing" ? "danger" : "neutral"}>
              {endpoint.disabledReason === "failing" ? "Disabled after 3 days of failures" : "Disabled"}
            </Badge>
          )}
        </div>
        <ul className="endpoint__events" aria-label="Events sent">
          {endpoint.events.map((type) => (
            <li key={type}>
              <code>{type}</code>
            </li>
          ))}
        </ul>
        {endpoint.previousSecretValidUntil ? (
          <p className="muted">The previous signing secret also signs deliveries until {formatDateTime(endpoint.previousSecretValidUntil)}.</p>
        ) : null}
        <EndpointControls endpointId={endpoint.id} host={host} enabled={endpoint.enabled} actions={actions} />
        <h4>Delivery log</h4>
        <DeliveryLog deliveries={endpoint.deliveries} host={host} />
      </div>
    </section>
  );
}
