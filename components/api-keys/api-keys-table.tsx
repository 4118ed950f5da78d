import { Badge } from "@/components/ui/badge";
import type { RevokeApiKeyFormState } from "@/lib/api-keys/form-state";
import type { ApiKeyState, ApiKeyView } from "@/lib/api-keys/api-keys";
import { formatDate, formatDateTime } from "@/lib/format";
import { RevokeApiKey } from "./revoke-api-key";

type ApiKeysTableProps = {
  keys: readonly ApiKeyView[];
  revokeAction: (previous: RevokeApiKeyFormState, formData: FormData) => Promise<RevokeApiKeyFormState>;
  /** The list's heading: where the focus goes after a revocation removes the button that had it. */
  headingId: string;
};

const STATE_BADGE: Record<ApiKeyState, { tone: "success" | "warning" | "neutral"; label: string }> = {
  active: { tone: "success", label: "Active" },
  expired: { tone: "warning", label: "Expired" },
  revoked: { tone: "neutral", label: "Revoked" },
};

function When({ at }: { at: string }) {
  return <time dateTime={at}>{formatDateTime(at)}</time>;
}

/**
 * The organisation's keys in listApiKeys' order (usable keys first, newest first). Each key is named by its
 * recognisable prefix only. On a narrow screen each row becomes a block with its labels (see globals.css).
 */
export function ApiKeysTable({ keys, revokeAction, headingId }: ApiKeysTableProps) {
  if (keys.length === 0) return <p className="muted">No API keys yet. Create one above when a script needs the API.</p>;
  return (
    <div className="table-wrap">
      <table className="api-keys-table">
        <caption className="visually-hidden">API keys: usable keys first, then revoked ones; newest first</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Key</th>
            <th scope="col">Created</th>
            <th scope="col">Expires</th>
            <th scope="col">Last used</th>
            <th scope="col">State</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {keys.map((key) => (
            <tr key={key.id} className={key.state === "revoked" ? "api-keys-table__row--revoked" : undefined}>
              <th scope="row" className="api-keys-table__name">
                {key.name}
              </th>
              <td data-label="Key">
                <code>{key.displayPrefix}…</code>
              </td>
              <td data-label="Created">
                <time dateTime={key.createdAt} className="nowrap">
                  {formatDate(key.createdAt)}
                </time>
                <span className="api-keys-table__by">by {key.createdBy?.name ?? "a removed user"}</span>
              </td>
              <td data-label="Expires">{key.expiresAt ? (
                  <time dateTime={key.expiresAt} className="nowrap">
                    {formatDate(key.expiresAt)}
                  </time>
                ) : (
                  "Never"
                )}</td>
              <td data-label="Last used">{key.lastUsedAt ? <When at={key.lastUsedAt} /> : "Never"}</td>
              <td data-label="State">
                <Badge tone={STATE_BADGE[key.state].tone}>{STATE_BADGE[key.state].label}</Badge>
                {key.state === "revoked" && key.revokedAt ? (
                  <span className="api-keys-table__when">
                    <When at={key.revokedAt} />
                  </span>
                ) : null}
              </td>
              <td className="api-keys-table__actions">
                <RevokeApiKey keyId={key.id} name={key.name} active={key.state === "active"} action={revokeAction} focusAfterRevokeId={headingId} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
