import { z } from "zod";
import { normaliseEmail } from "./email";

/**
 * Which email an identity provider vouches for. Only a verified address may match a person here: an unverified one
 * is just text that whoever holds the account typed in.
 *
 * - Google and OIDC put `email_verified` in the ID token's claims (Auth.js hands them over as the profile); only
 *   `true` counts (some issuers send the string "true").
 * - GitHub's profile (`GET /user`) carries the public email, with no word on whether it is verified, and Auth.js's
 *   provider falls back to the first address of `GET /user/emails` whatever its state. So for GitHub we ask
 *   `GET /user/emails` ourselves and take the primary address only when GitHub marks it verified.
 */

/** One entry of GitHub's `GET /user/emails` (https://docs.github.com/en/rest/users/emails). */
export const gitHubEmailsSchema = z.array(
  z.looseObject({ email: z.string(), primary: z.boolean(), verified: z.boolean() }).transform(({ email, primary, verified }) => ({ email, primary, verified })),
);
export type GitHubEmail = z.output<typeof gitHubEmailsSchema>[number];

/** GitHub: the primary address, if GitHub has verified it; never a secondary or unverified one. */
export function primaryVerifiedGitHubEmail(emails: readonly GitHubEmail[]): string | null {
  const primary = emails.find((entry) => entry.primary);
  return primary?.verified && primary.email.includes("@") ? normaliseEmail(primary.email) : null;
}

/** Google and OIDC: the `email` claim, only when `email_verified` is true. */
export function verifiedClaimEmail(profile: Record<string, unknown> | undefined): string | null {
  const email = profile?.email;
  const verified = profile?.email_verified;
  if (typeof email !== "string" || !email.includes("@")) return null;
  return verified === true || verified === "true" ? normaliseEmail(email) : null;
}
