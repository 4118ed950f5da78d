import { formatDateTime } from "@/lib/format";
import type { DiagnosticsFormState, DiagnosticsRow } from "@/lib/integrations/buildkite/presentation/diagnostics-view";
import { FailureAlert } from "./failure-alert";

const STATUS_TEXT = { passed: "Passed", failed: "Failed", warning: "Check", not_checked: "Not checked" } as const;

function Row({ row }: { row: DiagnosticsRow }) {
  return (
    <li className={`check-row check-row--${row.status}`}>
      <span className="check-row__status">{STATUS_TEXT[row.status]}</span>
      <span>
        <span className={row.code ? "check-row__label check-row__label--code" : "check-row__label"}>{row.label}</span>
        <span className="check-row__detail">{row.detail}</span>
        {row.fix ? <span className="check-row__fix">{row.fix}</span> : null}
      </span>
    </li>
  );
}

/** The result of "Run diagnostics": a checklist of the nine scopes and of the build data Gitar needs. */
export function DiagnosticsReport({ state }: { state: DiagnosticsFormState }) {
  if (state.status === "error" || state.status === "refused") return <FailureAlert state={state} />;
  if (state.status !== "report") return null;
  return (
    <section className="panel" aria-labelledby="buildkite-diagnostics-title">
      <h3 id="buildkite-diagnostics-title" className="panel__title">
        Diagnostics for {state.organizationName}
      </h3>
      <p role="status">
        {state.summary} <span className="muted">Run {formatDateTime(state.ranAt)}.</span>
      </p>
      {state.rateLimit ? <p className="muted">Buildkite rate limit: {state.rateLimit}</p> : null}
      <h4 className="section-title">Scopes</h4>
      <ul className="check-list" aria-label="Scope checks">
        {state.scopes.map((row) => (
          <Row key={row.key} row={row} />
        ))}
      </ul>
      <h4 className="section-title">Build data</h4>
      <ul className="check-list" aria-label="Build data checks">
        {state.data.map((row) => (
          <Row key={row.key} row={row} />
        ))}
      </ul>
    </section>
  );
}
