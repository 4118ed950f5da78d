import { primaryVerifiedGitHubEmail, verifiedClaimEmail, type GitHubEmail } from "./verified-email";

/**
 * Who an identity-provider sign-in is, here. The rules, in order:
 *
 * 1. The provider's account id (GitHub's user id, an OIDC `sub`) already bound to a person: that person, whatever
 *    email the provider shows today. The binding wins, so an address that moved to another account at the provider
 *    never brings that account in as the old owner.
 * 2. Otherwise the provider must vouch for the email (verified-email.ts); it must belong to a person with a
 *    membership; and that person must not be bound to another account at this provider already. Then the account
 *    is bound to them, once.
 *
 * Pure decisions over a store and GitHub's answer, so each rule is tested without Auth.js, GitHub or a browser.
 */

export type IdentityProvider = "github" | "google" | "oidc";

export type ProviderSignInInput = {
  provider: IdentityProvider;
  /** Where account ids are unique: "github", "google", "oidc:<issuer>". */
  providerKey: string;
  providerAccountId: string;
  /** The provider's profile (Google/OIDC: the ID token's claims). */
  profile: Record<string, unknown> | undefined;
  /** GitHub: the sign-in's access token, to read /user/emails. */
  accessToken: string | undefined;
};

export type BoundUser = { userId: string; isMember: boolean };
export type UserByEmail = BoundUser & { /** This person's account at this provider, if bound already. */ boundAccountId: string | null };

export type IdentityStore = {
  findBoundUser(providerKey: string, providerAccountId: string): Promise<BoundUser | null>;
  findUserByEmail(email: string, providerKey: string): Promise<UserByEmail | null>;
  /** "conflict" when either side was bound meanwhile (the unique keys of user_identities). */
  bind(binding: { userId: string; providerKey: string; providerAccountId: string; email: string }): Promise<"bound" | "conflict">;
};

export type ProviderSignInDependencies = {
  store: IdentityStore;
  /** GitHub's GET /user/emails for this token; throws when GitHub cannot be asked. */
  gitHubEmails(accessToken: string): Promise<GitHubEmail[]>;
};

export type ProviderSignInFailure =
  /** The provider does not vouch for an email (unverified, or none). */
  | "EmailNotVerified"
  /** No person with a membership has this email (or the bound person has lost theirs). */
  | "NotAMember"
  /** The email's owner here is bound to a different account at this provider. */
  | "AccountMismatch"
  /** GitHub could not be asked which emails are verified. */
  | "ProviderUnavailable";

export type ProviderSignInResult = { ok: true; userId: string; bound: "existing" | "new" } | { ok: false; code: ProviderSignInFailure };

export type VerifiedEmailResult = { ok: true; email: string } | { ok: false; code: "EmailNotVerified" | "ProviderUnavailable" };

export async function verifiedEmailOf(input: ProviderSignInInput, deps: Pick<ProviderSignInDependencies, "gitHubEmails">): Promise<VerifiedEmailResult> {
  if (input.provider !== "github") {
    const email = verifiedClaimEmail(input.profile);
    return email ? { ok: true, email } : { ok: false, code: "EmailNotVerified" };
  }
  if (!input.accessToken) return { ok: false, code: "EmailNotVerified" };
  let emails: GitHubEmail[];
  try {
    emails = await deps.gitHubEmails(input.accessToken);
  } catch {
    return { ok: false, code: "ProviderUnavailable" };
  }
  const email = primaryVerifiedGitHubEmail(emails);
  return email ? { ok: true, email } : { ok: false, code: "EmailNotVerified" };
}

export async function resolveProviderSignIn(input: ProviderSignInInput, deps: ProviderSignInDependencies): Promise<ProviderSignInResult> {
  if (!input.providerAccountId) return { ok: false, code: "EmailNotVerified" };
  const bound = await deps.store.findBoundUser(input.providerKey, input.providerAccountId);
  if (bound) return bound.isMember ? { ok: true, userId: bound.userId, bound: "existing" } : { ok: false, code: "NotAMember" };

  const verified = await verifiedEmailOf(input, deps);
  if (!verified.ok) return verified;
  const user = await deps.store.findUserByEmail(verified.email, input.providerKey);
  if (!user?.isMember) return { ok: false, code: "NotAMember" };
  if (user.boundAccountId !== null) return { ok: false, code: "AccountMismatch" };

  const outcome = await deps.store.bind({
    userId: user.userId,
    providerKey: input.providerKey,
    providerAccountId: input.providerAccountId,
    email: verified.email,
  });
  if (outcome === "bound") return { ok: true, userId: user.userId, bound: "new" };
  // Another sign-in bound one side first: it counts only if it bound this very account to this very person.
  const now = await deps.store.findBoundUser(input.providerKey, input.providerAccountId);
  return now?.userId === user.userId ? { ok: true, userId: user.userId, bound: "existing" } : { ok: false, code: "AccountMismatch" };
}
