type AppHeaderProps = {
  organizationName: string;
  userName: string;
  email: string;
  role: "admin" | "member";
  signOutAction: () => Promise<void>;
};

export function AppHeader({ organizationName, userName, email, role, signOutAction }: AppHeaderProps) {
  return (
    <header className="app-header">
      <div className="app-header__inner">
        <a className="app-header__brand" href="/settings/integrations">
          Gitar <span className="app-header__org">/ {organizationName}</span>
        </a>
        <div className="app-header__user">
          <span>
            {userName} <span className="visually-hidden">signed in as</span>({email}) · {role === "admin" ? "Admin" : "Member"}
          </span>
          <form action={signOutAction}>
            <button type="submit" className="button button--secondary">
              Sign out
            </button>
          </form>
        </div>
      </div>
    </header>
  );
}
