import { createHash } from "node:crypto";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { buildStylesheetHashes } from "@/lib/http/build-stylesheets";
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

  it("allows the build's inlined stylesheets by hash in production, and never in development", () => {
    const styleHashes = ["'sha256-abc='", "'sha256-def='"];
    const production = directivesOf(contentSecurityPolicy({ nonce: "n", development: false, formActionOrigins: [], styleHashes }));
    expect(production.get("style-src")).toEqual(["'self'", "'nonce-n'", ...styleHashes]);
    // A hash in development would make the browser ignore 'unsafe-inline', which Next's dev server needs.
    const development = directivesOf(contentSecurityPolicy({ nonce: "n", development: true, formActionOrigins: [], styleHashes }));
    expect(development.get("style-src")).toEqual(["'self'", "'unsafe-inline'"]);
  });

  it("hashes every stylesheet of a build, byte for byte, and nothing else", async () => {
    const staticDir = await mkdtemp(path.join(tmpdir(), "gitar-static-"));
    await mkdir(path.join(staticDir, "chunks"), { recursive: true });
    await mkdir(path.join(staticDir, "media"), { recursive: true });
    const sheets = { "chunks/a.css": "body{margin:0}\n", "media/b.css": ".x{color:red}" };
    for (const [name, text] of Object.entries(sheets)) await writeFile(path.join(staticDir, name), text);
    await writeFile(path.join(staticDir, "chunks/app.js"), "console.log(1)");
    const expected = Object.values(sheets).map((text) => `'sha256-${createHash("sha256").update(text).digest("base64")}'`);
    expect(buildStylesheetHashes(staticDir)).toEqual(expected);
    expect(buildStylesheetHashes(path.join(staticDir, "missing"))).toEqual([]);
  });

  it("makes a new 128-bit nonce every time", () => {
    const nonces = new Set(Array.from({ length: 1000 }, newNonce));
    expect(nonces.size).toBe(1000);
    for (const nonce of nonces) expect(Buffer.from(nonce, "base64")).toHaveLength(16);
  });
});
