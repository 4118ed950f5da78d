import { z } from "zod";

/**
 * The shapes of Buildkite's answers that the product relies on (see docs/buildkite-api.md). Unknown extra fields
 * are normal and ignored; anything we rely on that is missing or malformed makes the whole answer "broken".
 */

export type AccessTokenInfo = {
  uuid: string;
  scopes: string[];
  description: string | null;
  createdAt: Date | null;
  expiresAt: Date | null;
  owner: { name: string | null; email: string | null } | null;
};

export type BuildkiteOrganization = { slug: string; name: string };

// "2025-07-16 06:07:42 UTC" (Buildkite's docs); ISO 8601 ("2026-05-21T12:00:00.000Z") also appears in the wild.
const DOCS_DATE = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) UTC$/;
const isoDate = z.iso.datetime({ offset: true, local: false });

export function parseBuildkiteDate(value: string): Date | undefined {
  const docs = DOCS_DATE.exec(value);
  if (docs) {
    const [year, month, day, hour, minute, second] = docs.slice(1).map(Number) as [number, number, number, number, number, number];
    const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
    // Date.UTC rolls 2025-02-30 over into March; a round trip catches such impossible dates.
    const valid =
      date.getUTCFullYear() === year &&
      date.getUTCMonth() === month - 1 &&
      date.getUTCDate() === day &&
      date.getUTCHours() === hour &&
      date.getUTCMinutes() === minute &&
      date.getUTCSeconds() === second;
    return valid ? date : undefined;
  }
  if (!isoDate.safeParse(value).success) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

const buildkiteDate = z.string().transform((value, ctx) => {
  const date = parseBuildkiteDate(value);
  if (date) return date;
  ctx.issues.push({ code: "custom", message: "not a date Buildkite sends", input: value });
  return z.NEVER;
});

const optionalText = z
  .string()
  .nullish()
  .transform((value) => value ?? null);

export const accessTokenResponseSchema = z
  .looseObject({
    uuid: z.string().min(1),
    scopes: z.array(z.string()),
    description: optionalText,
    created_at: buildkiteDate.nullish(),
    expires_at: buildkiteDate.nullish(),
    user: z.looseObject({ name: optionalText, email: optionalText }).nullish(),
  })
  .transform(
    (body): AccessTokenInfo => ({
      uuid: body.uuid,
      scopes: body.scopes,
      description: body.description,
      createdAt: body.created_at ?? null,
      expiresAt: body.expires_at ?? null,
      owner: body.user ? { name: body.user.name, email: body.user.email } : null,
    }),
  );

export const organizationSchema = z
  .looseObject({
    slug: z.string().min(1),
    name: z.string().min(1),
    id: z.string().optional(),
    url: z.string().optional(),
    web_url: z.string().optional(),
  })
  .transform((org): BuildkiteOrganization => ({ slug: org.slug, name: org.name }));

export const organizationListSchema = z.array(organizationSchema);
