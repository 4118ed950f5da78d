import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * Signing: HMAC-SHA256 over `timestamp.body`, sent as `Gitar-Signature: t=<unix seconds>,v1=<hex>` — the scheme
 * Stripe uses, so receivers can reuse what they know. While a rolled secret's predecessor is still valid, each
 * delivery carries one v1 per secret, and a receiver holding either verifies.
 */

export const SIGNATURE_HEADER = "Gitar-Signature";
export const DELIVERY_HEADER = "Gitar-Delivery";
export const EVENT_HEADER = "Gitar-Event";

/** How far a receiver should let a signature's timestamp be from its clock (replay protection). */
export const DEFAULT_TOLERANCE_SECONDS = 300;

const SECRET_PREFIX = "whsec_";

/** A new signing secret: 32 random bytes, recognisable by its prefix. */
export function generateSigningSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(32).toString("base64url")}`;
}

export function sign(secret: string, timestamp: number, body: string): string {
  return createHmac("sha256", secret).update(`${timestamp}.${body}`, "utf8").digest("hex");
}

export function signatureHeader(secrets: readonly string[], timestamp: number, body: string): string {
  return [`t=${timestamp}`, ...secrets.map((secret) => `v1=${sign(secret, timestamp, body)}`)].join(",");
}

export type Verification = { ok: true } | { ok: false; reason: "malformed" | "too_old" | "mismatch" };

/** What a receiver does (the README shows the same in a few lines). */
export function verifySignature(
  secret: string,
  header: string | null | undefined,
  body: string,
  options: { nowSeconds?: number; toleranceSeconds?: number } = {},
): Verification {
  const parts = (header ?? "").split(",").map((part) => part.trim().split("="));
  const timestamp = Number(parts.find(([key]) => key === "t")?.[1]);
  const candidates = parts.filter(([key, value]) => key === "v1" && value && /^[0-9a-f]{64}$/.test(value)).map(([, value]) => value!);
  if (!Number.isInteger(timestamp) || candidates.length === 0) return { ok: false, reason: "malformed" };
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - timestamp) > (options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS)) return { ok: false, reason: "too_old" };
  const expected = Buffer.from(sign(secret, timestamp, body), "hex");
  const matches = candidates.some((candidate) => timingSafeEqual(Buffer.from(candidate, "hex"), expected));
  return matches ? { ok: true } : { ok: false, reason: "mismatch" };
}
