import type { Metadata } from "next";
import { AuditTable, type AuditRow } from "@/components/audit/audit-table";
import { AdminsOnly } from "@/components/layout/admins-only";
import { SettingsNav } from "@/components/layout/settings-nav";
import { AUDIT_ACTIONS, AUDIT_ACTION_NAMES, isAuditAction } from "@/lib/audit/events";
import { listAuditEvents } from "@/lib/audit/read";
import { membershipOrSignIn } from "@/lib/auth/membership";
import { getDb } from "@/lib/db/client";
import { describeAuditDetail, outcomeLabel } from "@/lib/integrations/buildkite/presentation/audit-view";

export const metadata: Metadata = { title: "Audit log" };

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

const single = (value: string | string[] | undefined) => (typeof value === "string" ? value : undefined);

export default async function AuditPage({ searchParams }: { searchParams: SearchParams }) {
  const membership = await membershipOrSignIn("/settings/audit");
  if (membership.role !== "admin") {
    return <AdminsOnly current="audit" title="Audit log" organizationName={membership.organizationName} only="see the audit log" />;
  }

  const params = await searchParams;
  const action = single(params.action);
  const filter = isAuditAction(action) ? action : undefined;
  const cursor = single(params.cursor);
  const page = await listAuditEvents(getDb(), membership.organizationId, { action: filter, cursor });
  const rows: AuditRow[] = page.events.map((event) => ({
    id: event.id,
    at: event.at,
    who: event.actor.name,
    action: event.actionLabel,
    outcome: outcomeLabel(event),
    tone: event.outcome === "success" ? (event.code === "needs_attention" || event.code === "unreachable" ? "warning" : "success") : "error",
    detail: describeAuditDetail(event),
  }));
  const query = (extra: Record<string, string>) => `?${new URLSearchParams({ ...(filter ? { action: filter } : {}), ...extra }).toString()}`;

  return (
    <div className="stack">
      <SettingsNav current="audit" isAdmin />
      <div className="page__header">
        <p className="breadcrumb">Settings</p>
        <h1>Audit log</h1>
        <p className="page__lead">
          Who connected, rotated, disconnected or checked {membership.organizationName}’s integrations, and how it ended.
          Tokens appear only by their UUID at Buildkite and their last four characters.
        </p>
      </div>
      <form className="filter-form" method="get" action="/settings/audit">
        <label className="field__label" htmlFor="audit-action">
          Action
        </label>
        <select id="audit-action" name="action" className="input select" defaultValue={filter ?? ""}>
          <option value="">All actions</option>
          {AUDIT_ACTION_NAMES.map((name) => (
            <option key={name} value={name}>
              {AUDIT_ACTIONS[name]}
            </option>
          ))}
        </select>
        <button type="submit" className="button button--secondary">
          Filter
        </button>
      </form>
      <AuditTable rows={rows} />
      <nav className="pager" aria-label="Audit log pages">
        {cursor ? <a href={query({})}>Newest events</a> : null}
        {page.nextCursor ? <a href={query({ cursor: page.nextCursor })}>Older events</a> : null}
      </nav>
    </div>
  );
}
