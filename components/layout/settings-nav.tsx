const LINKS = [
  { id: "integrations", href: "/settings/integrations", label: "Integrations", adminOnly: false },
  { id: "notifications", href: "/settings/notifications", label: "Notifications", adminOnly: true },
  { id: "audit", href: "/settings/audit", label: "Audit log", adminOnly: true },
  { id: "api-keys", href: "/settings/api-keys", label: "API keys", adminOnly: true },
  { id: "api-reference", href: "/settings/api-reference", label: "API reference", adminOnly: true },
] as const;

export type SettingsPage = (typeof LINKS)[number]["id"];

/** The settings sections; a member sees only what they may open. Rendered on the server: no script needed. */
export function SettingsNav({ current, isAdmin }: { current: SettingsPage; isAdmin: boolean }) {
  return (
    <nav className="settings-nav" aria-label="Settings">
      <ul>
        {LINKS.filter((link) => isAdmin || !link.adminOnly).map((link) => (
          <li key={link.id}>
            <a href={link.href} aria-current={link.id === current ? "page" : undefined}>
              {link.label}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}
