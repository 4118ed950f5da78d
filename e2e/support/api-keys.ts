// What the API keys browser tests share: reaching the page, creating a key as an admin does, calling the API with
// it, reading the api_keys and audit_events tables, and capturing an admin's server-action POST to replay it.
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { expect, type Browser, type Page } from "@playwright/test";
import { withDatabase } from "./app";
import { e2eBaseUrl, e2eValue } from "./environment";
import { captureActionPost, replayActionPost, type CapturedPost } from "./server-actions";

export { signedInPage } from "./server-actions";

export const API_KEYS = "/settings/api-keys";
export const API_KEY_SHAPE = /^gitar_ak_[0-9A-Za-z]{38}$/;
export const DAY_MS = 86_400_000;

/** A name no other test uses, so tests never depend on each other's keys. */
export const uniqueKeyName = (label: string) => `${label} ${randomBytes(3).toString("hex")}`;

export async function openApiKeys(page: Page) {
  await page.goto(API_KEYS);
  await expect(page.getByRole("heading", { name: "API keys", level: 1 })).toBeVisible();
}

export const keyNameField = (page: Page) => page.getByLabel("Key name", { exact: true });
export const expiresField = (page: Page) => page.getByLabel("Expires", { exact: true });
export const createButton = (page: Page) => page.getByRole("button", { name: "Create API key" });
export const newKeyField = (page: Page) => page.getByLabel("Your new API key", { exact: true });

/** The list's row of one key, found by its name (each row's header cell). */
export const keyRow = (page: Page, name: string) =>
  page.getByRole("table").getByRole("row").filter({ has: page.getByRole("rowheader", { name, exact: true }) });

/** Fills the form and creates the key as an admin does; returns the key the page showed once. */
export async function createKeyThroughPage(page: Page, name: string, expires?: string): Promise<string> {
  await keyNameField(page).fill(name);
  if (expires) await expiresField(page).selectOption({ label: expires });
  await createButton(page).click();
  await expect(page.getByRole("status").filter({ hasText: `API key “${name.trim()}” created` })).toBeVisible();
  return newKeyField(page).inputValue();
}

export async function organizationIdOf(slug: string): Promise<string> {
  return withDatabase(async (client) => {
    const { rows } = await client.query<{ id: string }>(`SELECT id FROM organizations WHERE slug = $1`, [slug]);
    if (!rows[0]) throw new Error(`No organisation ${slug}`);
    return rows[0].id;
  });
}

export type ApiKeyRecord = {
  id: string;
  name: string;
  display_prefix: string;
  key_hash: string;
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
};

export async function apiKeyNamed(slug: string, name: string): Promise<ApiKeyRecord | null> {
  return withDatabase(async (client) => {
    const { rows } = await client.query<ApiKeyRecord>(
      `SELECT k.* FROM api_keys k JOIN organizations o ON o.id = k.organization_id WHERE o.slug = $1 AND k.name = $2`,
      [slug, name],
    );
    return rows[0] ?? null;
  });
}

export async function apiKeyCount(slug: string): Promise<number> {
  return withDatabase(async (client) => {
    const { rows } = await client.query<{ count: string }>(
      `SELECT count(*) FROM api_keys k JOIN organizations o ON o.id = k.organization_id WHERE o.slug = $1`,
      [slug],
    );
    return Number(rows[0]?.count ?? 0);
  });
}

/** A key of another organisation, made straight in the database (its value is never needed). */
export async function insertForeignKey(slug: string, name: string): Promise<string> {
  return withDatabase(async (client) => {
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO api_keys (id, organization_id, name, display_prefix, key_hash)
       SELECT gen_random_uuid(), id, $2, 'gitar_ak_Zz99', encode(sha256(gen_random_uuid()::text::bytea), 'hex')
       FROM organizations WHERE slug = $1 RETURNING id`,
      [slug, name],
    );
    return rows[0]!.id;
  });
}

/** Every row of the tables that could have been handed the key, as text. */
export async function tablesAsText(): Promise<string> {
  return withDatabase(async (client) => {
    const texts: string[] = [];
    for (const table of ["api_keys", "audit_events"]) {
      const { rows } = await client.query<{ row: string }>(`SELECT row_to_json(t)::text AS row FROM ${table} t`);
      texts.push(...rows.map((row) => row.row));
    }
    return texts.join("\n");
  });
}

export const serverLog = () => readFile(e2eValue("E2E_SERVER_LOG"), "utf8");

/** What a script does with the key: read the Buildkite connection of its organisation through the API. */
export async function callApiWithKey(key: string, organizationId: string): Promise<{ status: number; body: { code?: string } }> {
  const response = await fetch(`${e2eBaseUrl}/api/v1/organizations/${organizationId}/integrations/buildkite`, {
    headers: { authorization: `Bearer ${key}`, accept: "application/json" },
  });
  return { status: response.status, body: (await response.json()) as { code?: string } };
}

/** The POST an admin's click on the API keys page makes (see server-actions.ts). */
export const captureApiKeysPost = (browser: Browser, click: (page: Page) => Promise<void>): Promise<CapturedPost> =>
  captureActionPost(browser, API_KEYS, click, openApiKeys);

/** Sends a captured API keys POST again with the session of `page`'s context. Returns the response's text. */
export const replayPost = (page: Page, post: CapturedPost, body?: Buffer): Promise<string> => replayActionPost(page, API_KEYS, post, body);
