import "server-only";

import NextAuth, { type NextAuthConfig } from "next-auth";
import Credentials from "next-auth/providers/credentials";
import GitHub from "next-auth/providers/github";
import Google from "next-auth/providers/google";
import type { Provider } from "next-auth/providers";
import { z } from "zod";
import { getConfig } from "@/lib/config";
import { findMemberByEmail, findUserByPassword } from "./users";

const credentialsSchema = z.object({ email: z.string().trim().min(1).max(320), password: z.string().min(1).max(1024) });

function providers(): Provider[] {
  const { demoMode, providers: configured } = getConfig().auth;
  const list: Provider[] = [];
  if (demoMode) {
    list.push(
      Credentials({
        id: "credentials",
        name: "Email and password",
        credentials: { email: { label: "Email", type: "email" }, password: { label: "Password", type: "password" } },
        async authorize(input) {
          const parsed = credentialsSchema.safeParse(input);
          return parsed.success ? findUserByPassword(parsed.data.email, parsed.data.password) : null;
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
  return {
    secret: config.auth.secret,
    // Served by `next start` behind whatever host the admin chose; the Host header is trusted as Auth.js documents
    // for self-hosting. Put the app behind a proxy that sets it correctly.
    trustHost: true,
    session: { strategy: "jwt", maxAge: 8 * 60 * 60 },
    pages: { signIn: "/sign-in", error: "/sign-in" },
    providers: providers(),
    callbacks: {
      async signIn({ user, account }) {
        if (account?.provider === "credentials") return Boolean(user?.id);
        // Identity providers prove the email; our database decides whether that person belongs here.
        if (!user?.email) return false;
        const member = await findMemberByEmail(user.email);
        return member ? true : "/sign-in?error=NotAMember";
      },
      async jwt({ token, user, account }) {
        if (user && account) {
          const member = account.provider === "credentials" ? user : await findMemberByEmail(user.email ?? "");
          if (member?.id) token.userId = member.id;
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
