import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { SignInForm } from "@/components/auth/sign-in-form";
import { Alert } from "@/components/ui/alert";
import { enabledIdentityProviders } from "@/lib/auth/auth";
import { safeCallbackPath } from "@/lib/auth/callback-url";
import { currentMembership, isSignedIn } from "@/lib/auth/membership";
import { getConfig } from "@/lib/config";
import { DEMO_ACCOUNTS, DEMO_PASSWORD, demoOrganizationName } from "@/lib/auth/demo-accounts";
import { signInWithPasswordAction, signInWithProviderAction } from "./actions";

export const metadata: Metadata = { title: "Sign in" };

const ERRORS: Record<string, string> = {
  NotAMember: "Your account is not a member of any organisation here. Ask an admin to add you, then sign in again.",
  EmailNotVerified:
    "Your identity provider has not verified your email address. Verify it there (on GitHub: make a verified address your primary one), then sign in again.",
  AccountMismatch:
    "Your email address here is linked to a different account at this identity provider. Sign in with that account, or ask an admin for help.",
  ProviderUnavailable: "Your identity provider could not be reached to confirm your email address. Try again in a moment.",
  AccessDenied: "You do not have access. Ask an admin of your organisation to add you.",
  Configuration: "Sign-in is misconfigured on this server. An operator must check the identity provider settings.",
};

// Auth.js's own credentials endpoint, posted to directly, lands here with ?error=CredentialsSignin&code=….
const CREDENTIAL_CODES: Record<string, string> = {
  too_many_attempts: "Too many attempts. Try again in a few minutes.",
};

type SignInPageProps = { searchParams: Promise<{ callbackUrl?: string | string[]; error?: string | string[]; code?: string | string[] }> };

const errorMessage = (error: unknown, code: unknown): string | undefined => {
  if (typeof error !== "string" || !error) return undefined;
  if (error === "CredentialsSignin" && typeof code === "string" && Object.hasOwn(CREDENTIAL_CODES, code)) return CREDENTIAL_CODES[code];
  return Object.hasOwn(ERRORS, error) ? ERRORS[error] : "Sign-in failed. Try again.";
};

export default async function SignInPage({ searchParams }: SignInPageProps) {
  const { callbackUrl: requested, error, code } = await searchParams;
  const callbackUrl = safeCallbackPath(requested);
  // Signed in already: on to the page asked for, or, without a membership, to the page that says so (sending them
  // to the settings would send them straight back here).
  if (await currentMembership()) redirect(callbackUrl);
  if (await isSignedIn()) redirect("/not-a-member");
  const message = errorMessage(error, code);
  const { demoMode } = getConfig().auth;
  const providers = enabledIdentityProviders();

  return (
    <main id="main" className="auth-page">
      <div className="card auth-card">
        <div className="stack stack--snug">
          <h1>Sign in to Gitar</h1>
          <p className="muted">Manage your organisation’s CI integrations.</p>
        </div>
        {message ? (
          <Alert tone="error" role="alert">
            <p>{message}</p>
          </Alert>
        ) : null}
        {providers.map((provider) => (
          <form key={provider.id} action={signInWithProviderAction}>
            <input type="hidden" name="provider" value={provider.id} />
            <input type="hidden" name="callbackUrl" value={callbackUrl} />
            <button type="submit" className="button button--secondary button--block">
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
              <p className="muted demo-accounts__intro">
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
      </div>
    </main>
  );
}
