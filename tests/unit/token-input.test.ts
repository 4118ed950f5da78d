import { describe, expect, it } from "vitest";
import { buildkiteTokenInputSchema, parseBuildkiteToken, TOKEN_MESSAGES } from "@/lib/buildkite/token-input";

const TOKEN = "bkua_MTA.4f6cQ2xZ9kLp3Nv8Rb5Tc1Hj6Yf4Ga0SeWq";

describe("parseBuildkiteToken", () => {
  it("accepts a bkua_ token and trims surrounding whitespace and line breaks", () => {
    expect(parseBuildkiteToken(`  ${TOKEN}\n`)).toEqual({ ok: true, token: TOKEN });
    expect(parseBuildkiteToken(`\t${TOKEN}\r\n`)).toEqual({ ok: true, token: TOKEN });
  });

  it("accepts a legacy 40-character token with no prefix", () => {
    const legacy = "4f6c9e2b8a1d3f5e7c0b9a8d6e4f2a1c3b5d7e9f";
    expect(parseBuildkiteToken(legacy)).toEqual({ ok: true, token: legacy });
  });

  it("does not impose a strict bkua_ pattern", () => {
    expect(parseBuildkiteToken("bkua_x")).toEqual({ ok: true, token: "bkua_x" });
  });

  it.each([[""], ["   "], ["\n\t"], [undefined], [null], [42]])("asks for a token when given %j", (raw) => {
    expect(parseBuildkiteToken(raw)).toEqual({ ok: false, message: "Enter your Buildkite API token." });
  });

  it("rejects more than 256 characters but accepts exactly 256", () => {
    expect(parseBuildkiteToken("a".repeat(256))).toEqual({ ok: true, token: "a".repeat(256) });
    const result = parseBuildkiteToken("a".repeat(257));
    expect(result).toEqual({ ok: false, message: TOKEN_MESSAGES.tooLong });
    expect(TOKEN_MESSAGES.tooLong).toContain("256");
  });

  it.each([
    ["a space", `Token: ${TOKEN}`],
    ["a line break", `${TOKEN}\nexport OTHER=1`],
    ["a tab", `${TOKEN}\tx`],
    ["a non-breaking space", `${TOKEN}\u00a0x`],
  ])("says more than the token was pasted when it contains %s", (_label, raw) => {
    const result = parseBuildkiteToken(raw);
    expect(result).toEqual({ ok: false, message: TOKEN_MESSAGES.whitespace });
    expect(TOKEN_MESSAGES.whitespace).toMatch(/more than the token/);
  });

  it.each([
    ["NUL", "\u0000"],
    ["ESC", "\u001b"],
    ["DEL", "\u007f"],
    ["zero-width space", "\u200b"],
  ])("rejects a %s character", (_label, char) => {
    expect(parseBuildkiteToken(`bkua_${char}abc`)).toEqual({ ok: false, message: TOKEN_MESSAGES.control });
  });

  it("names an agent session token and says which token to create instead", () => {
    const result = parseBuildkiteToken("bkaa_Q2xZ9kLp3Nv8Rb5Tc1Hj6Yf4Ga0SeWqMTA");
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.message).toBe(TOKEN_MESSAGES.agentSession);
    expect(result.message).toMatch(/agent session token/);
    expect(result.message).toContain("bkua_");
    expect(result.message).toContain("Personal Settings → API Access Tokens");
  });

  it("names an agent job token", () => {
    const result = parseBuildkiteToken("  bkaj_eyJhbGciOiJIUzI1NiJ9.payload.sig ");
    expect(result).toEqual({ ok: false, message: TOKEN_MESSAGES.agentJob });
    expect(TOKEN_MESSAGES.agentJob).toMatch(/agent job token/);
  });

  it("never repeats the pasted value in a message", () => {
    const secret = "bkaa_SuperSecretValue123";
    for (const raw of [secret, `${secret} extra`, secret.repeat(20), `${secret}\u0000`]) {
      const result = parseBuildkiteToken(raw);
      expect(result.ok).toBe(false);
      expect(JSON.stringify(result)).not.toContain("SuperSecretValue");
    }
    const failure = buildkiteTokenInputSchema.safeParse(`${secret} extra`);
    expect(failure.success).toBe(false);
    expect(JSON.stringify(failure.error?.issues)).not.toContain("SuperSecretValue");
  });
});

describe("buildkiteTokenInputSchema", () => {
  it("outputs the trimmed token", () => {
    expect(buildkiteTokenInputSchema.parse(` ${TOKEN} `)).toBe(TOKEN);
  });

  it("reports exactly one issue per bad input", () => {
    const result = buildkiteTokenInputSchema.safeParse("bkaa_ has spaces");
    expect(result.success).toBe(false);
    expect(result.error?.issues).toHaveLength(1);
    expect(result.error?.issues[0]?.message).toBe(TOKEN_MESSAGES.whitespace);
  });
});
