import { describe, expect, it } from "vitest";
import { generateSigningSecret, sign, signatureHeader, verifySignature } from "@/lib/notifications/signature";

describe("webhook signatures", () => {
  const secret = generateSigningSecret();
  const body = JSON.stringify({ id: "evt", type: "test" });
  const now = 1_800_000_000;

  it("is HMAC-SHA256 over timestamp.body, in t=…,v1=…", () => {
    const header = signatureHeader([secret], now, body);
    expect(header).toBe(`t=${now},v1=${sign(secret, now, body)}`);
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verifySignature(secret, header, body, { nowSeconds: now })).toEqual({ ok: true });
  });

  it("refuses another body, another secret, an old timestamp and a malformed header", () => {
    const header = signatureHeader([secret], now, body);
    expect(verifySignature(secret, header, `${body} `, { nowSeconds: now })).toEqual({ ok: false, reason: "mismatch" });
    expect(verifySignature(generateSigningSecret(), header, body, { nowSeconds: now })).toEqual({ ok: false, reason: "mismatch" });
    expect(verifySignature(secret, header, body, { nowSeconds: now + 301 })).toEqual({ ok: false, reason: "too_old" });
    expect(verifySignature(secret, "v1=abc", body, { nowSeconds: now })).toEqual({ ok: false, reason: "malformed" });
    expect(verifySignature(secret, undefined, body, { nowSeconds: now })).toEqual({ ok: false, reason: "malformed" });
  });

  it("with two secrets (after a roll) verifies with either", () => {
    const next = generateSigningSecret();
    const header = signatureHeader([next, secret], now, body);
    expect(verifySignature(secret, header, body, { nowSeconds: now })).toEqual({ ok: true });
    expect(verifySignature(next, header, body, { nowSeconds: now })).toEqual({ ok: true });
  });

  it("makes distinct, prefixed secrets of 32 random bytes", () => {
    const secrets = new Set(Array.from({ length: 50 }, generateSigningSecret));
    expect(secrets.size).toBe(50);
    for (const value of secrets) expect(value).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
  });
});
