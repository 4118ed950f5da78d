import "server-only";

import NextAuth, { CredentialsSignin, type NextAuthConfig } from "next-auth";
import Credentials from "next-auth/providers/credentials";
import GitHub from "next-auth/providers/github";
import Google from "next-auth/providers/google";
import type { Provider } from "next-auth/providers";
import { z } from "zod";
import { getConfig } from "@/lib/config";
import { getDb } from "@/lib/db/client";
import { log } from "@/lib/log";
import { safeRedirectUrl } from "./callback-url";
import { clientAddressFrom } from "./client-address";
import { fetchGitHubEmails } from "./github-emails";
import { prismaIdentityStore } from "./identities";
import { attemptPasswordSignIn } from "./password-sign-in";
import { resolveProviderSignIn, type IdentityProvider } from "./provider-sign-in";
import { getSignInThrottle } from "./sign-in-throttle";
import { findUserByPassword } from "./users";

const credentialsSchema = z.object({ email: z.string().trim().min(1).max(320), password: z.string().min(1).max(1024) });

/** Thrown from the credentials provider when the attempt was not even checked (sign-in-throttle.ts). */
export class TooManyAttemptsError extends CredentialsSignin {
  constructor(readonly retryAfterSeconds: number) {
    super();
    this.code = "too_many_attempts";
  }
}

const isIdentityProvider = (id: string): id is IdentityProvider => id === "github" || id === "google" || id === "oidc";

/** Where a provider's account ids are unique. OIDC subjects are unique per issuer, so a new issuer is a new key. */
function providerKeyOf(provider: IdentityProvider): string {
  return provider === "oidc" ? `oidc:${getConfig().auth.providers.oidc?.issuer ?? ""}` : provider;
}

function providers(): Provider[] {
  const { demoMode, providers: configured } = getConfig().auth;
  const list: Provider[] = [];
  if (demoMode) {
    list.push(
      Credentials({
        id: "credentials",
        name: "Email and password",
        credentials: { email: { label: "Email", type: "email" }, password: { label: "Password", type: "password" } },
        async authorize(input, request) {
          const parsed = credentialsSchema.safeParse(input);
          if (!parsed.success) return null;
          const result = await attemptPasswordSignIn(
            { ...parsed.data, address: clientAddressFrom(request.headers.get("x-forwarded-for")) },
            { throttle: getSignInThrottle(), findUserByPassword: (email, password) => findUserByPassword(email, password) },
          );
          if (result.ok) return result.user;
          if (result.reason === "throttled") throw new TooManyAttemptsError(result.retryAfterSeconds);
          return null;
        },
      }),
    );
  }
  if (configured.github) list.push(GitHub(configured.github));
  if (configured.google) list.push(Google(configured.google));
  if (configured.oidc) {
    const { issuer, clientId, clientSecret, name } = configured.oidc;
    list.push({ id: "oidc", name, type: "oidc", issuer, clientId, clientSecret });
  }
  return list;
}

function authConfig(): NextAuthConfig {
  const config = getConfig();
  const identities = () => prismaIdentityStore(getDb());
  return {
    secret: config.auth.secret,
    // Served by `next start` behind whatever host the admin chose. proxy.ts answers only requests addressed to a
    // name in the configuration (AUTH_URL, loopback names, ALLOWED_HOSTS), and drops X-Forwarded-Host unless
    // TRUST_PROXY=true, so the host Auth.js builds its URLs from is one of those.
    trustHost: true,
    // HttpOnly and SameSite=Lax are Auth.js's defaults for every cookie it sets; Secure is ours to decide.
    useSecureCookies: config.auth.secureCookies,
    session: { strategy: "jwt", maxAge: 8 * 60 * 60 },
    pages: { signIn: "/sign-in", error: "/sign-in" },
    providers: providers(),
    callbacks: {
      // Every callback URL Auth.js meets (a form field, its cookie after an OAuth round trip) goes through here.
      redirect: ({ url, baseUrl }) => safeRedirectUrl(url, baseUrl),
      async signIn({ user, account, profile }) {
        if (account?.provider === "credentials") return Boolean(user?.id);
        if (!account || !isIdentityProvider(account.provider)) return false;
        // The provider proves who the account is; the binding, or a verified email, says who that is here; our
        // database decides whether they belong (provider-sign-in.ts).
        const result = await resolveProviderSignIn(
          {
            provider: account.provider,
            providerKey: providerKeyOf(account.provider),
            providerAccountId: account.providerAccountId,
            profile: profile as Record<string, unknown> | undefined,
            accessToken: account.access_token,
          },
          { store: identities(), gitHubEmails: fetchGitHubEmails },
        );
        if (result.ok) {
          if (result.bound === "new") log.info("auth.identity.bound", { provider: account.provider, userId: result.userId });
          return true;
        }
        log.info("auth.provider_sign_in.refused", { provider: account.provider, code: result.code });
        return `/sign-in?error=${result.code}`;
      },
      async jwt({ token, user, account }) {
        if (user && account) {
          let userId: string | undefined;
          if (account.provider === "credentials") userId = user.id;
          else if (isIdentityProvider(account.provider)) {
            userId = (await identities().findBoundUser(providerKeyOf(account.provider), account.providerAccountId))?.userId;
          }
          // Who they are here, never what the provider claims: its email may not be verified.
          const row = userId ? await getDb().user.findUnique({ where: { id: userId }, select: { email: true, name: true } }) : null;
          token.userId = row ? userId : undefined;
          token.email = row?.email;
          token.name = row?.name;
          token.picture = undefined;
        }
        return token;
      },
      session({ session, token }) {
        if (typeof token.userId === "string") session.user.id = token.userId;
        return session;
      },
    },
  };
}

export const { handlers, auth, signIn, signOut } = NextAuth(() => authConfig());

export function enabledIdentityProviders(): Array<{ id: string; name: string }> {
  const { providers: configured } = getConfig().auth;
  return [
    configured.github && { id: "github", name: "GitHub" },
    configured.google && { id: "google", name: "Google" },
    configured.oidc && { id: "oidc", name: configured.oidc.name },
  ].filter((entry): entry is { id: string; name: string } => Boolean(entry));
}
