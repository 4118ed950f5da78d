type ScopeItem = { scope: string; purpose: string; granted?: boolean };

// The icon is the list item's ::before (app/globals.css), not an inline <svg>: nine of them, twice on a connected
// card, were a fifth of the card's markup. The words "(granted)" / "(missing)" say the same to a screen reader.
const iconClass = (granted: boolean | undefined) => (granted === undefined ? "scope--info" : granted ? "scope--granted" : "scope--missing");

/** The nine scopes with what each is for; with `granted`, a checklist of what the connected token carries. */
export function ScopeChecklist({ scopes, label }: { scopes: readonly ScopeItem[]; label: string }) {
  return (
    <ul className="scope-list" aria-label={label}>
      {scopes.map(({ scope, purpose, granted }) => (
        <li key={scope} className={iconClass(granted)}>
          <span>
            <code>{scope}</code>
            {granted === undefined ? null : <span className="visually-hidden">{granted ? " (granted)" : " (missing)"}</span>}
            <span className="scope-purpose">{purpose}</span>
          </span>
        </li>
      ))}
    </ul>
  );
}
