import { compareScopes } from "@/lib/buildkite/scopes";

/** How close to expiry a token may be before we warn: Buildkite itself emails the owner 3 days before. */
export const EXPIRY_WARNING_DAYS = 7;
const DAY_MS = 24 * 60 * 60 * 1000;

export type TokenFacts = { scopes: readonly string[]; expiresAt: Date | null };

export type TokenWarning =
  | { code: "expires_soon"; expiresAt: Date; daysLeft: number }
  | { code: "broader_scopes"; extra: string[]; writeScopes: string[] };

export type TokenAssessment =
  | { ok: false; code: "token_expired"; expiredAt: Date }
  | { ok: false; code: "missing_scopes"; missing: string[] }
  | { ok: true; warnings: TokenWarning[] };

/** What we can say about a token from Buildkite's description of it, before we store anything. */
export function assessToken(token: TokenFacts, now: Date): TokenAssessment {
  if (token.expiresAt && token.expiresAt.getTime() <= now.getTime()) {
    return { ok: false, code: "token_expired", expiredAt: token.expiresAt };
  }
  const { missing } = compareScopes(token.scopes);
  if (missing.length > 0) return { ok: false, code: "missing_scopes", missing: [...missing] };
  return { ok: true, warnings: tokenWarnings(token, now) };
}

/** Warnings for a usable token; also shown on the connected card for as long as they hold. */
export function tokenWarnings(token: TokenFacts, now: Date): TokenWarning[] {
  const warnings: TokenWarning[] = [];
  if (token.expiresAt) {
    const left = token.expiresAt.getTime() - now.getTime();
    if (left > 0 && left <= EXPIRY_WARNING_DAYS * DAY_MS) {
      warnings.push({ code: "expires_soon", expiresAt: token.expiresAt, daysLeft: Math.max(1, Math.ceil(left / DAY_MS)) });
    }
  }
  const { extra, writeScopes } = compareScopes(token.scopes);
  if (extra.length > 0) warnings.push({ code: "broader_scopes", extra: [...extra], writeScopes: [...writeScopes] });
  return warnings;
}
