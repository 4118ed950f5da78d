import { describe, expect, it } from "vitest";
import { contentSecurityPolicy, identityProviderOrigins, newNonce } from "@/lib/http/content-security-policy";

const directivesOf = (policy: string) =>
  new Map(policy.split(";").map((part) => part.trim().split(/\s+/)).map(([name, ...values]) => [name, values]));

describe("the Content-Security-Policy", () => {
  it("allows scripts only with this request's nonce, and nothing inline, framed, based or plugged in", () => {
    const policy = directivesOf(contentSecurityPolicy({ nonce: "abc123==", development: false, formActionOrigins: [] }));
    expect(policy.get("script-src")).toEqual(["'nonce-abc123=='", "'strict-dynamic'"]);
    expect(policy.get("default-src")).toEqual(["'self'"]);
    expect(policy.get("style-src")).not.toContain("'unsafe-inline'");
    expect(policy.get("base-uri")).toEqual(["'none'"]);
    expect(policy.get("object-src")).toEqual(["'none'"]);
    expect(policy.get("frame-ancestors")).toEqual(["'none'"]);
    expect(policy.get("form-action")).toEqual(["'self'"]);
  });

  it("lets sign-in forms reach the configured identity providers, and only those", () => {
    expect(identityProviderOrigins({})).toEqual([]);
    const origins = identityProviderOrigins({ github: {}, google: {}, oidc: { issuer: "https://login.example.test/realms/acme" } });
    expect(origins).toEqual(["https://github.com", "https://accounts.google.com", "https://login.example.test"]);
    const policy = directivesOf(contentSecurityPolicy({ nonce: "n", development: false, formActionOrigins: origins }));
    expect(policy.get("form-action")).toEqual(["'self'", ...origins]);
  });

  it("loosens only what Next's dev server needs, only in development", () => {
    const policy = directivesOf(contentSecurityPolicy({ nonce: "n", development: true, formActionOrigins: [] }));
    expect(policy.get("script-src")).toContain("'unsafe-eval'");
    expect(policy.get("style-src")).toContain("'unsafe-inline'");
  });

  it("makes a new 128-bit nonce every time", () => {
    const nonces = new Set(Array.from({ length: 1000 }, newNonce));
    expect(nonces.size).toBe(1000);
    for (const nonce of nonces) expect(Buffer.from(nonce, "base64")).toHaveLength(16);
  });
});
