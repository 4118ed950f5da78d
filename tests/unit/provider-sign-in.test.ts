import { describe, expect, it, vi } from "vitest";
import {
  resolveProviderSignIn,
  verifiedEmailOf,
  type IdentityStore,
  type ProviderSignInDependencies,
  type ProviderSignInInput,
} from "@/lib/auth/provider-sign-in";
import { gitHubEmailsSchema, primaryVerifiedGitHubEmail, verifiedClaimEmail, type GitHubEmail } from "@/lib/auth/verified-email";

/** user_identities and users in memory, with the table's two unique keys. */
function memoryStore(users: Array<{ id: string; email: string; member: boolean }>) {
  const bindings: Array<{ userId: string; providerKey: string; providerAccountId: string; email: string }> = [];
  const store: IdentityStore = {
    async findBoundUser(providerKey, providerAccountId) {
      const binding = bindings.find((entry) => entry.providerKey === providerKey && entry.providerAccountId === providerAccountId);
      const user = binding && users.find((entry) => entry.id === binding.userId);
      return user ? { userId: user.id, isMember: user.member } : null;
    },
    async findUserByEmail(email, providerKey) {
      const user = users.find((entry) => entry.email === email);
      if (!user) return null;
      const binding = bindings.find((entry) => entry.userId === user.id && entry.providerKey === providerKey);
      return { userId: user.id, isMember: user.member, boundAccountId: binding?.providerAccountId ?? null };
    },
    async bind(binding) {
      const taken = bindings.some(
        (entry) =>
          (entry.providerKey === binding.providerKey && entry.providerAccountId === binding.providerAccountId) ||
          (entry.userId === binding.userId && entry.providerKey === binding.providerKey),
      );
      if (taken) return "conflict";
      bindings.push(binding);
      return "bound";
    },
  };
  return { store, bindings };
}

const ADA = { id: "user-ada", email: "ada@acme.test", member: true };
const REMOVED = { id: "user-removed", email: "removed@acme.test", member: false };

const github = (providerAccountId: string, emails: GitHubEmail[] | Error, profileEmail?: string) => {
  const gitHubEmails = vi.fn(async () => {
    if (emails instanceof Error) throw emails;
    return emails;
  });
  const input: ProviderSignInInput = {
    provider: "github",
    providerKey: "github",
    providerAccountId,
    profile: { id: Number(providerAccountId), login: "someone", email: profileEmail ?? null },
    accessToken: "gho_test-access-token",
  };
  return { input, gitHubEmails };
};

const oidc = (providerAccountId: string, claims: Record<string, unknown>): ProviderSignInInput => ({
  provider: "oidc",
  providerKey: "oidc:https://login.example.test",
  providerAccountId,
  profile: { sub: providerAccountId, ...claims },
  accessToken: undefined,
});

const deps = (store: IdentityStore, gitHubEmails: ProviderSignInDependencies["gitHubEmails"] = async () => []): ProviderSignInDependencies => ({
  store,
  gitHubEmails,
});

describe("which email a provider vouches for", () => {
  it("GitHub: the primary address only when GitHub marks it verified", () => {
    expect(primaryVerifiedGitHubEmail([{ email: "Ada@Acme.test", primary: true, verified: true }])).toBe("ada@acme.test");
    expect(primaryVerifiedGitHubEmail([{ email: "ada@acme.test", primary: true, verified: false }])).toBeNull();
    // A verified secondary address is not the account's email.
    expect(
      primaryVerifiedGitHubEmail([
        { email: "ada@acme.test", primary: false, verified: true },
        { email: "ada@personal.test", primary: true, verified: false },
      ]),
    ).toBeNull();
    expect(primaryVerifiedGitHubEmail([])).toBeNull();
  });

  it("GitHub: reads /user/emails as GitHub documents it, extra fields ignored", () => {
    const parsed = gitHubEmailsSchema.parse([{ email: "ada@acme.test", primary: true, verified: true, visibility: "private" }]);
    expect(parsed).toEqual([{ email: "ada@acme.test", primary: true, verified: true }]);
    expect(gitHubEmailsSchema.safeParse([{ email: "ada@acme.test", primary: true }]).success).toBe(false);
    expect(gitHubEmailsSchema.safeParse({ message: "Requires authentication" }).success).toBe(false);
  });

  it.each([
    { claims: { email: "Ada@Acme.test", email_verified: true }, expected: "ada@acme.test" },
    { claims: { email: "ada@acme.test", email_verified: "true" }, expected: "ada@acme.test" },
    { claims: { email: "ada@acme.test", email_verified: false }, expected: null },
    { claims: { email: "ada@acme.test", email_verified: "false" }, expected: null },
    { claims: { email: "ada@acme.test" }, expected: null },
    { claims: { email: "ada@acme.test", email_verified: 1 }, expected: null },
    { claims: { email_verified: true }, expected: null },
    { claims: { email: "not-an-email", email_verified: true }, expected: null },
  ])("Google/OIDC claims $claims → $expected", ({ claims, expected }) => {
    expect(verifiedClaimEmail(claims)).toBe(expected);
  });

  it("GitHub's profile email is never taken on trust: /user/emails decides", async () => {
    const { input, gitHubEmails } = github("1001", [{ email: "ada@acme.test", primary: true, verified: false }], "ada@acme.test");
    expect(await verifiedEmailOf(input, { gitHubEmails })).toEqual({ ok: false, code: "EmailNotVerified" });
    expect(gitHubEmails).toHaveBeenCalledWith("gho_test-access-token");
  });

  it("GitHub unreachable is its own answer, not a refusal of the person", async () => {
    const { input, gitHubEmails } = github("1001", new Error("ECONNRESET"));
    expect(await verifiedEmailOf(input, { gitHubEmails })).toEqual({ ok: false, code: "ProviderUnavailable" });
  });

  it("GitHub without an access token cannot vouch", async () => {
    const { input, gitHubEmails } = github("1001", [{ email: "ada@acme.test", primary: true, verified: true }]);
    expect(await verifiedEmailOf({ ...input, accessToken: undefined }, { gitHubEmails })).toEqual({ ok: false, code: "EmailNotVerified" });
  });
});

describe("resolveProviderSignIn", () => {
  it("first sign-in with a verified email of a member binds the account, and later sign-ins use the binding", async () => {
    const { store, bindings } = memoryStore([ADA]);
    const first = github("1001", [{ email: "ada@acme.test", primary: true, verified: true }]);
    expect(await resolveProviderSignIn(first.input, deps(store, first.gitHubEmails))).toEqual({ ok: true, userId: ADA.id, bound: "new" });
    expect(bindings).toEqual([{ userId: ADA.id, providerKey: "github", providerAccountId: "1001", email: "ada@acme.test" }]);

    // Later: the account's primary email changed (even to an unverified one); the binding still says who it is,
    // and GitHub is not even asked.
    const later = github("1001", [{ email: "ada@elsewhere.test", primary: true, verified: false }]);
    expect(await resolveProviderSignIn(later.input, deps(store, later.gitHubEmails))).toEqual({ ok: true, userId: ADA.id, bound: "existing" });
    expect(later.gitHubEmails).not.toHaveBeenCalled();
  });

  it("an email that moved to another account at the provider does not get in as the old user", async () => {
    const { store, bindings } = memoryStore([ADA]);
    const original = github("1001", [{ email: "ada@acme.test", primary: true, verified: true }]);
    await resolveProviderSignIn(original.input, deps(store, original.gitHubEmails));

    // Account 2002 now holds (and has verified) ada@acme.test.
    const other = github("2002", [{ email: "ada@acme.test", primary: true, verified: true }]);
    expect(await resolveProviderSignIn(other.input, deps(store, other.gitHubEmails))).toEqual({ ok: false, code: "AccountMismatch" });
    expect(bindings).toHaveLength(1);
    expect(bindings[0]!.providerAccountId).toBe("1001");
  });

  it("an unverified email never matches, and binds nothing", async () => {
    const { store, bindings } = memoryStore([ADA]);
    const unverified = github("1001", [{ email: "ada@acme.test", primary: true, verified: false }], "ada@acme.test");
    expect(await resolveProviderSignIn(unverified.input, deps(store, unverified.gitHubEmails))).toEqual({ ok: false, code: "EmailNotVerified" });
    expect(await resolveProviderSignIn(oidc("sub-1", { email: "ada@acme.test", email_verified: false }), deps(store))).toEqual({
      ok: false,
      code: "EmailNotVerified",
    });
    expect(await resolveProviderSignIn(oidc("sub-1", { email: "ada@acme.test" }), deps(store))).toEqual({ ok: false, code: "EmailNotVerified" });
    expect(bindings).toEqual([]);
  });

  it("a verified email of nobody here, or of someone without a membership, is not a member, and binds nothing", async () => {
    const { store, bindings } = memoryStore([ADA, REMOVED]);
    expect(await resolveProviderSignIn(oidc("sub-9", { email: "stranger@acme.test", email_verified: true }), deps(store))).toEqual({
      ok: false,
      code: "NotAMember",
    });
    expect(await resolveProviderSignIn(oidc("sub-8", { email: "removed@acme.test", email_verified: true }), deps(store))).toEqual({
      ok: false,
      code: "NotAMember",
    });
    expect(bindings).toEqual([]);
  });

  it("a bound person who lost their membership is not a member", async () => {
    const ada = { ...ADA };
    const { store } = memoryStore([ada]);
    const input = oidc("sub-1", { email: "ada@acme.test", email_verified: true });
    expect((await resolveProviderSignIn(input, deps(store))).ok).toBe(true);
    ada.member = false;
    expect(await resolveProviderSignIn(input, deps(store))).toEqual({ ok: false, code: "NotAMember" });
  });

  it("bindings are per provider: the same person may bind GitHub and an OIDC account", async () => {
    const { store, bindings } = memoryStore([ADA]);
    const viaGitHub = github("1001", [{ email: "ada@acme.test", primary: true, verified: true }]);
    expect((await resolveProviderSignIn(viaGitHub.input, deps(store, viaGitHub.gitHubEmails))).ok).toBe(true);
    expect((await resolveProviderSignIn(oidc("1001", { email: "ada@acme.test", email_verified: true }), deps(store))).ok).toBe(true);
    expect(bindings.map((binding) => binding.providerKey)).toEqual(["github", "oidc:https://login.example.test"]);
  });

  it("GitHub unreachable on a first sign-in: refused as ProviderUnavailable", async () => {
    const { store } = memoryStore([ADA]);
    const down = github("1001", new Error("timeout"));
    expect(await resolveProviderSignIn(down.input, deps(store, down.gitHubEmails))).toEqual({ ok: false, code: "ProviderUnavailable" });
  });

  it("losing a race to bind counts only if the winner bound this account to this person", async () => {
    const { store } = memoryStore([ADA]);
    const racing: IdentityStore = {
      ...store,
      findBoundUser: vi.fn(store.findBoundUser).mockResolvedValueOnce(null).mockResolvedValueOnce({ userId: "someone-else", isMember: true }),
      bind: async () => "conflict",
    };
    expect(await resolveProviderSignIn(oidc("sub-1", { email: "ada@acme.test", email_verified: true }), deps(racing))).toEqual({
      ok: false,
      code: "AccountMismatch",
    });

    const sameWinner: IdentityStore = {
      ...store,
      findBoundUser: vi.fn(store.findBoundUser).mockResolvedValueOnce(null).mockResolvedValueOnce({ userId: ADA.id, isMember: true }),
      bind: async () => "conflict",
    };
    expect(await resolveProviderSignIn(oidc("sub-1", { email: "ada@acme.test", email_verified: true }), deps(sameWinner))).toEqual({
      ok: true,
      userId: ADA.id,
      bound: "existing",
    });
  });
});
