import { z } from "zod";

/**
 * Checks a pasted Buildkite token before anything is sent to Buildkite. Deliberately loose about the token's
 * shape (Buildkite documents no strict format, and legacy tokens have no prefix): it only catches mistakes we can
 * name for the admin. Messages never repeat the token.
 */

export const MAX_TOKEN_LENGTH = 256;

export const TOKEN_MESSAGES = {
  empty: "Enter your Buildkite API token.",
  tooLong: `That is longer than any Buildkite API token (at most ${MAX_TOKEN_LENGTH} characters). Paste only the token.`,
  whitespace:
    "The token contains spaces or line breaks, so it looks like more than the token was pasted. Paste only the token.",
  control:
    "The token contains invisible or control characters. Copy the token again from Buildkite and paste only the token.",
  agentSession:
    "This is a Buildkite agent session token (it starts with bkaa_), which cannot use Buildkite's API. Create an API access token instead: it starts with bkua_ and is made under Personal Settings → API Access Tokens.",
  agentJob:
    "This is a Buildkite agent job token (it starts with bkaj_), which cannot use Buildkite's API. Create an API access token instead: it starts with bkua_ and is made under Personal Settings → API Access Tokens.",
} as const;

// Whitespace is checked first, so this catches what is left: C0/C1 controls plus zero-width and BOM characters
// that copy-paste from chat tools and PDFs tends to smuggle in.
const CONTROL_OR_INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\u2060\ufeff]/u;

function problemWith(token: string): string | undefined {
  if (token === "") return TOKEN_MESSAGES.empty;
  if (token.length > MAX_TOKEN_LENGTH) return TOKEN_MESSAGES.tooLong;
  if (/\s/u.test(token)) return TOKEN_MESSAGES.whitespace;
  if (CONTROL_OR_INVISIBLE.test(token)) return TOKEN_MESSAGES.control;
  const prefix = token.slice(0, 5).toLowerCase();
  if (prefix === "bkaa_") return TOKEN_MESSAGES.agentSession;
  if (prefix === "bkaj_") return TOKEN_MESSAGES.agentJob;
  return undefined;
}

export const buildkiteTokenInputSchema = z
  .string({ error: TOKEN_MESSAGES.empty })
  .trim()
  .superRefine((token, ctx) => {
    const message = problemWith(token);
    if (message) ctx.addIssue({ code: "custom", message, input: undefined });
  });

export type ParsedBuildkiteToken = { ok: true; token: string } | { ok: false; message: string };

export function parseBuildkiteToken(raw: unknown): ParsedBuildkiteToken {
  const result = buildkiteTokenInputSchema.safeParse(raw);
  if (result.success) return { ok: true, token: result.data };
  return { ok: false, message: result.error.issues[0]?.message ?? TOKEN_MESSAGES.empty };
}
