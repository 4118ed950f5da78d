import { DateText } from "@/components/ui/date-text";
import type { ConnectionDetails as Details } from "@/lib/integrations/buildkite/presentation/card";
import { ScopeChecklist } from "./scope-checklist";

export function ConnectionDetails({ details }: { details: Details }) {
  const owner = [details.owner.name, details.owner.email && `<${details.owner.email}>`].filter(Boolean).join(" ");
  return (
    <div className="two-col">
      <div>
        <h3 className="section-title">Connection</h3>
        <dl className="details">
          <dt>Buildkite organisation</dt>
          <dd>
            <a href={details.buildkiteOrg.url} target="_blank" rel="noopener noreferrer">
              {details.buildkiteOrg.name}
            </a>{" "}
            <span className="muted">({details.buildkiteOrg.slug})</span>
          </dd>
          <dt>Token</dt>
          <dd>
            {details.tokenDescription ?? <span className="muted">No description</span>}{" "}
            <span className="muted">
              · ending in <code>{details.tokenLastFour}</code>
            </span>
          </dd>
          <dt>Token owner</dt>
          <dd>{owner || <span className="muted">Not reported by Buildkite</span>}</dd>
          <dt>Token UUID</dt>
          <dd>
            <code>{details.tokenUuid}</code>
          </dd>
          <dt>Created</dt>
          <dd>{details.tokenCreatedAt ? <DateText value={details.tokenCreatedAt} /> : <span className="muted">Unknown</span>}</dd>
          <dt>Expires</dt>
          <dd>{details.tokenExpiresAt ? <DateText value={details.tokenExpiresAt} /> : "Never expires"}</dd>
          <dt>Connected by</dt>
          <dd>
            {details.connectedBy ?? <span className="muted">A removed user or API key</span>}
            <span className="muted">
              {" "}
              on <DateText value={details.connectedAt} withTime />
            </span>
          </dd>
          {details.rotatedAt ? (
            <>
              <dt>Token replaced by</dt>
              <dd>
                {details.rotatedBy ?? <span className="muted">A removed user or API key</span>}
                <span className="muted">
                  {" "}
                  on <DateText value={details.rotatedAt} withTime />
                </span>
              </dd>
            </>
          ) : null}
          <dt>Last verified</dt>
          <dd>
            <DateText value={details.lastVerifiedAt} withTime />
          </dd>
          <dt>Next check</dt>
          <dd>
            <DateText value={details.nextCheckAt} withTime />
          </dd>
        </dl>
      </div>
      <div>
        <h3 className="section-title">Scopes</h3>
        <ScopeChecklist scopes={details.scopes} label="Scopes this token carries" />
        {details.extraScopes.length > 0 ? (
          <p className="muted extra-scopes">
            Also granted:{" "}
            {details.extraScopes.map((scope) => (
              <code key={scope}>{scope}</code>
            ))}
          </p>
        ) : null}
      </div>
    </div>
  );
}
