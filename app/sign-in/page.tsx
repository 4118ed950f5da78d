import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { SignInForm } from "@/components/auth/sign-in-form";
import { Alert } from "@/components/ui/alert";
import { auth, enabledIdentityProviders } from "@/lib/auth/auth";
import { safeCallbackPath } from "@/lib/auth/callback-url";
import { getConfig } from "@/lib/config";
import { DEMO_ACCOUNTS, DEMO_PASSWORD, demoOrganizationName } from "@/lib/auth/demo-accounts";
import { signInWithPasswordAction, signInWithProviderAction } from "./actions";

export const metadata: Metadata = { title: "Sign in" };

const ERRORS: Record<string, string> = {
  NotAMember: "Your account is not a member of any organisation here. Ask an admin to add you, then sign in again.",
  AccessDenied: "You do not have access. Ask an admin of your organisation to add you.",
  Configuration: "Sign-in is misconfigured on this server. An operator must check the identity provider settings.",
};

type SignInPageProps = { searchParams: Promise<{ callbackUrl?: string; error?: string }> };

export default async function SignInPage({ searchParams }: SignInPageProps) {
  const { callbackUrl: requested, error } = await searchParams;
  const callbackUrl = safeCallbackPath(requested);
  if ((await auth())?.user?.id) redirect(callbackUrl);
  const { demoMode } = getConfig().auth;
  const providers = enabledIdentityProviders();

  return (
    <main id="main" className="auth-page">
      <div className="card auth-card">
        <div className="stack" style={{ gap: 8 }}>
          <h1>Sign in to Gitar</h1>
          <p className="muted">Manage your organisation’s CI integrations.</p>
        </div>
        {error ? (
          <Alert tone="error" role="alert">
            <p>{ERRORS[error] ?? "Sign-in failed. Try again."}</p>
          </Alert>
        ) : null}
        {providers.map((provider) => (
          <form key={provider.id} action={signInWithProviderAction}>
            <input type="hidden" name="provider" value={provider.id} />
            <input type="hidden" name="callbackUrl" value={callbackUrl} />
            <button type="submit" className="button button--secondary" style={{ width: "100%" }}>
              Continue with {provider.name}
            </button>
          </form>
        ))}
        {demoMode ? (
          <>
            {providers.length > 0 ? <p className="divider">or</p> : null}
            <SignInForm action={signInWithPasswordAction} callbackUrl={callbackUrl} />
            <section className="demo-accounts" aria-labelledby="demo-accounts-title">
              <h2 id="demo-accounts-title" className="section-title">
                Demo accounts
              </h2>
              <p className="muted" style={{ marginBottom: 8 }}>
                Every demo account’s password is <code>{DEMO_PASSWORD}</code>.
              </p>
              <table>
                <thead>
                  <tr>
                    <th scope="col">Email</th>
                    <th scope="col">Organisation</th>
                    <th scope="col">Role</th>
                  </tr>
                </thead>
                <tbody>
                  {DEMO_ACCOUNTS.map((account) => (
                    <tr key={account.email}>
                      <td>
                        <code>{account.email}</code>
                      </td>
                      <td>{demoOrganizationName(account.organization)}</td>
                      <td>{account.role === "admin" ? "Admin" : "Member"}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
          </>
        ) : null}
        {!demoMode && providers.length === 0 ? (
          <Alert tone="warning" title="No way to sign in is configured">
            <p>An operator must configure an identity provider (see .env.example) or enable AUTH_DEMO.</p>
          </Alert>
        ) : null}
      </div>
    </main>
  );
}
