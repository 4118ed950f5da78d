import { z } from "zod";

// What the API keys forms accept: one home for the name's limits, the expiry choices and their words, shared by the
// form (labels, options) and the actions (validation, the expiry date).

export const KEY_NAME_MAX_LENGTH = 100;

export const EXPIRY_CHOICES = [
  { value: "never", label: "Never", days: null },
  { value: "30d", label: "In 30 days", days: 30 },
  { value: "90d", label: "In 90 days", days: 90 },
  { value: "1y", label: "In 1 year", days: 365 },
] as const;

export type ExpiryChoice = (typeof EXPIRY_CHOICES)[number]["value"];

export const DEFAULT_EXPIRY: ExpiryChoice = "90d";

const DAY_MS = 86_400_000;

export const keyNameSchema = z
  .string()
  .trim()
  .min(1, "Enter a name for the key, such as “terraform”, so you can tell it apart later.")
  .refine((name) => [...name].length <= KEY_NAME_MAX_LENGTH, {
    message: `Use at most ${KEY_NAME_MAX_LENGTH} characters for the name.`,
  })
  // Control characters (line breaks, tabs…) would only garble the list and the audit log.
  .refine((name) => !/\p{Cc}/u.test(name), { message: "Use a name without line breaks or tabs." });

const expirySchema = z.enum(EXPIRY_CHOICES.map((choice) => choice.value) as [ExpiryChoice, ...ExpiryChoice[]]);

export const keyIdSchema = z.uuid();

export type CreateApiKeyInput = { name: string; expiresAt: Date | null };

export type ParsedCreate =
  | { ok: true; input: CreateApiKeyInput }
  | { ok: false; field: "name" | "expiresIn"; message: string; values: { name: string; expiresIn: string } };

const text = (value: FormDataEntryValue | null) => (typeof value === "string" ? value : "");

export function parseCreateApiKey(formData: FormData, now = new Date()): ParsedCreate {
  // What was sent, bounded: it goes back to refill the form after an invalid attempt (no valid name is that long).
  const values = { name: text(formData.get("name")).slice(0, 1000), expiresIn: text(formData.get("expiresIn")).slice(0, 20) };
  const name = keyNameSchema.safeParse(values.name);
  if (!name.success) return { ok: false, field: "name", message: name.error.issues[0]?.message ?? "Enter a name for the key.", values };
  const expiry = expirySchema.safeParse(values.expiresIn);
  if (!expiry.success) return { ok: false, field: "expiresIn", message: "Choose when the key expires.", values };
  const days = EXPIRY_CHOICES.find((choice) => choice.value === expiry.data)?.days ?? null;
  return { ok: true, input: { name: name.data, expiresAt: days === null ? null : new Date(now.getTime() + days * DAY_MS) } };
}

/** The key to revoke, or null when the form sent something that cannot be one of ours. */
export function parseKeyId(formData: FormData): string | null {
  const parsed = keyIdSchema.safeParse(formData.get("keyId"));
  return parsed.success ? parsed.data : null;
}
