import { formatTimestamp } from "@/lib/format";

export type AuditRow = { id: string; at: string; who: string; action: string; outcome: string; tone: "success" | "warning" | "error"; detail: string };

/** The audit log, newest first. A table: people scan it by column (when, who, what, how it ended). */
export function AuditTable({ rows }: { rows: readonly AuditRow[] }) {
  if (rows.length === 0) return <p className="muted">No events yet.</p>;
  return (
    <div className="table-wrap">
      <table className="audit-table">
        <caption className="visually-hidden">Audit events, newest first</caption>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Who</th>
            <th scope="col">Action</th>
            <th scope="col">Outcome</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.id}>
              <td className="nowrap">{formatTimestamp(row.at)}</td>
              <td>{row.who}</td>
              <td>{row.action}</td>
              <td>
                <span className={`outcome outcome--${row.tone}`}>{row.outcome}</span>
              </td>
              <td>{row.detail}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
