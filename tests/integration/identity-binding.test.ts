// Provider sign-in against the real user_identities table: the first sign-in binds, the binding wins afterwards.
import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { prismaIdentityStore } from "@/lib/auth/identities";
import { resolveProviderSignIn, type ProviderSignInInput } from "@/lib/auth/provider-sign-in";
import type { GitHubEmail } from "@/lib/auth/verified-email";
import { addMember } from "@/lib/organizations/add-member";
import { connectTestDb } from "../support/db";

const db = connectTestDb();
afterAll(() => db.$disconnect());
const store = prismaIdentityStore(db);

const gitHubSignIn = (providerAccountId: string): ProviderSignInInput => ({
  provider: "github",
  providerKey: "github",
  providerAccountId,
  profile: { id: Number(providerAccountId), login: "someone" },
  accessToken: `gho_${providerAccountId}`,
});
/** GitHub's /user/emails as it answers for each account id. */
const gitHubAnswers = (answers: Record<string, GitHubEmail[]>) => async (token: string) => answers[token.slice("gho_".length)] ?? [];

async function member() {
  const email = `ada-${randomUUID()}@acme.test`;
  const { userId } = await addMember(db, { organizationName: `Acme ${randomUUID().slice(0, 8)}`, email, name: "Ada", role: "admin" });
  return { email, userId };
}

const accountId = () => String(Math.floor(Math.random() * 1e9));

describe("identity binding on a real database", () => {
  it("binds on the first sign-in with a verified email; an email moved to another account does not get in", async () => {
    const ada = await member();
    const original = accountId();
    const impostor = accountId();
    const gitHubEmails = gitHubAnswers({
      [original]: [{ email: ada.email, primary: true, verified: true }],
      [impostor]: [{ email: ada.email, primary: true, verified: true }],
    });

    expect(await resolveProviderSignIn(gitHubSignIn(original), { store, gitHubEmails })).toEqual({ ok: true, userId: ada.userId, bound: "new" });
    expect(await db.userIdentity.findMany({ where: { userId: ada.userId }, select: { provider: true, providerAccountId: true, email: true } })).toEqual([
      { provider: "github", providerAccountId: original, email: ada.email },
    ]);
    expect(await resolveProviderSignIn(gitHubSignIn(impostor), { store, gitHubEmails })).toEqual({ ok: false, code: "AccountMismatch" });
    expect(await resolveProviderSignIn(gitHubSignIn(original), { store, gitHubEmails: gitHubAnswers({}) })).toEqual({
      ok: true,
      userId: ada.userId,
      bound: "existing",
    });
  });

  it("an unverified primary email binds nothing and gets nobody in", async () => {
    const ada = await member();
    const account = accountId();
    const gitHubEmails = gitHubAnswers({ [account]: [{ email: ada.email, primary: true, verified: false }] });
    expect(await resolveProviderSignIn(gitHubSignIn(account), { store, gitHubEmails })).toEqual({ ok: false, code: "EmailNotVerified" });
    expect(await db.userIdentity.count({ where: { userId: ada.userId } })).toBe(0);
  });

  it("two first sign-ins racing for one person: one account is bound, the other refused", async () => {
    const ada = await member();
    const [first, second] = [accountId(), accountId()];
    const gitHubEmails = gitHubAnswers({
      [first]: [{ email: ada.email, primary: true, verified: true }],
      [second]: [{ email: ada.email, primary: true, verified: true }],
    });
    const results = await Promise.all([first, second].map((id) => resolveProviderSignIn(gitHubSignIn(id), { store, gitHubEmails })));
    expect(results.filter((result) => result.ok)).toHaveLength(1);
    expect(results.filter((result) => !result.ok)).toEqual([{ ok: false, code: "AccountMismatch" }]);
    expect(await db.userIdentity.count({ where: { userId: ada.userId } })).toBe(1);
  });

  it("a bound person whose membership was removed is not a member; deleting the user deletes the binding", async () => {
    const ada = await member();
    const account = accountId();
    const input: ProviderSignInInput = {
      provider: "oidc",
      providerKey: "oidc:https://login.example.test",
      providerAccountId: account,
      profile: { sub: account, email: ada.email, email_verified: true },
      accessToken: undefined,
    };
    expect((await resolveProviderSignIn(input, { store, gitHubEmails: gitHubAnswers({}) })).ok).toBe(true);
    await db.membership.deleteMany({ where: { userId: ada.userId } });
    expect(await resolveProviderSignIn(input, { store, gitHubEmails: gitHubAnswers({}) })).toEqual({ ok: false, code: "NotAMember" });
    await db.user.delete({ where: { id: ada.userId } });
    expect(await db.userIdentity.count({ where: { providerAccountId: account } })).toBe(0);
  });
});
