type ScopeItem = { scope: string; purpose: string; granted?: boolean };

function ScopeIcon({ granted }: { granted?: boolean }) {
  if (granted === undefined) {
    return (
      <svg className="scope-icon scope-icon--info" viewBox="0 0 20 20" aria-hidden="true">
        <circle cx="10" cy="10" r="4" fill="currentColor" />
      </svg>
    );
  }
  return granted ? (
    <svg className="scope-icon scope-icon--granted" viewBox="0 0 20 20" aria-hidden="true">
      <path d="M4 10.5l4 4 8-9" fill="none" stroke="currentColor" strokeWidth="2.5" strokeLinecap="round" strokeLinejoin="round" />
    </svg>
  ) : (
    <svg className="scope-icon scope-icon--missing" viewBox="0 0 20 20" aria-hidden="true">
      <path d="M5 5l10 10M15 5L5 15" fill="none" stroke="currentColor" strokeWidth="2.5" strokeLinecap="round" />
    </svg>
  );
}

/** The nine scopes with what each is for; with `granted`, a checklist of what the connected token carries. */
export function ScopeChecklist({ scopes, label }: { scopes: readonly ScopeItem[]; label: string }) {
  return (
    <ul className="scope-list" aria-label={label}>
      {scopes.map(({ scope, purpose, granted }) => (
        <li key={scope}>
          <ScopeIcon granted={granted} />
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
