import { SettingsNav, type SettingsPage } from "./settings-nav";

/** What a member sees on an admins-only settings page: where they are, and who can help. */
export function AdminsOnly({ current, title, organizationName, only }: { current: SettingsPage; title: string; organizationName: string; only: string }) {
  return (
    <div className="stack">
      <SettingsNav current={current} isAdmin={false} />
      <div className="page__header">
        <h1>{title}</h1>
        <p className="page__lead">
          Only admins of {organizationName} can {only}. Ask an admin.
        </p>
      </div>
    </div>
  );
}
