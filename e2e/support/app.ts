import { randomBytes } from "node:crypto";
import { expect, type Page } from "@playwright/test";
import pg from "pg";
import { DEMO_PASSWORD } from "../../lib/auth/demo-accounts";
import { REQUIRED_SCOPE_NAMES } from "../../lib/buildkite/scopes";
import { e2eValue } from "./environment";

export const INTEGRATIONS = "/settings/integrations";

export async function signIn(page: Page, email: string) {
  await page.goto("/sign-in");
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByLabel("Password", { exact: true }).fill(DEMO_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(new RegExp(`${INTEGRATIONS}$`));
}

export const buildkiteCard = (page: Page) => page.getByRole("region", { name: "Buildkite" });

/** The test's own window on the app's database: to start each test from a known state and to check what changed. */
export async function withDatabase<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: e2eValue("E2E_DATABASE_URL") });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** No connection, and a fresh count of pasted tokens checked (20 in 15 minutes: token-check-limit.ts). */
export async function disconnectOrganization(slug: string) {
  await withDatabase((client) =>
    client.query(
      `DELETE FROM buildkite_connections WHERE organization_id = (SELECT id FROM organizations WHERE slug = $1)`,
      [slug],
    ),
  );
  await resetTokenChecks();
}

/**
 * Starts afresh the count of pasted tokens checked at Buildkite per organisation (connect and rotate: 20 in 15
 * minutes, lib/integrations/buildkite/token-check-limit.ts), so a test can connect and rotate as often as it needs.
 */
export async function resetTokenChecks() {
  await withDatabase((client) =>
    client.query(`DO $$ BEGIN IF to_regclass('rate_limits.token_checks') IS NOT NULL THEN DELETE FROM rate_limits.token_checks; END IF; END $$`),
  );
}

export async function connectionOf(slug: string) {
  return withDatabase(async (client) => {
    const { rows } = await client.query(
      `SELECT c.* FROM buildkite_connections c JOIN organizations o ON o.id = c.organization_id WHERE o.slug = $1`,
      [slug],
    );
    return rows[0] ?? null;
  });
}

export async function registerBuildkiteToken(token: string, scenario: Record<string, unknown>) {
  const response = await fetch(`${e2eValue("E2E_BUILDKITE_URL")}/__stand-in/tokens`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token, scenario }),
  });
  expect(response.status).toBeLessThan(300);
}

export async function buildkiteRequests(): Promise<Array<{ method: string; path: string; token: string | null }>> {
  return (await fetch(`${e2eValue("E2E_BUILDKITE_URL")}/__stand-in/requests`)).json();
}

/** A token nobody else uses, answered like a good token (or like `scenario`) by the Buildkite stand-in. */
export async function freshBuildkiteToken(scenario: Record<string, unknown> = GOOD_SCENARIO): Promise<string> {
  const token = `bkua_MTA.e2e${randomBytes(16).toString("hex")}`;
  await registerBuildkiteToken(token, scenario);
  return token;
}

export const GOOD_SCENARIO = {
  kind: "ok",
  scopes: [...REQUIRED_SCOPE_NAMES],
  description: "Gitar Integration",
  owner: { name: "Buildkite Service Account", email: "buildkite-integration@acme.test" },
  organizations: [{ slug: "acme-inc", name: "Acme Inc" }],
};

/** Whether Buildkite (the stand-in) still accepts a token: how a person would check a revocation worked. */
export async function tokenWorksAtBuildkite(token: string): Promise<boolean> {
  const response = await fetch(`${e2eValue("E2E_BUILDKITE_URL")}/v2/access-token`, { headers: { authorization: `Bearer ${token}` } });
  return response.status === 200;
}

/** Revokes a token as an admin would on buildkite.com. */
export async function revokeAtBuildkite(token: string) {
  const response = await fetch(`${e2eValue("E2E_BUILDKITE_URL")}/__stand-in/revoke`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token }),
  });
  expect(response.status).toBeLessThan(300);
}

/** Connects through the page, as an admin does, and waits for the card to say so. */
export async function connectThroughPage(page: Page, token: string) {
  await page.getByLabel("Buildkite API Token").fill(token);
  await page.getByRole("button", { name: "Connect Buildkite" }).click();
  await expect(buildkiteCard(page).getByText("Connected", { exact: true })).toBeVisible();
}

export async function auditEventsOf(slug: string): Promise<Array<{ action: string; outcome: string; code: string | null; actor_type: string }>> {
  return withDatabase(async (client) => {
    const { rows } = await client.query(
      `SELECT a.action, a.outcome, a.code, a.actor_type FROM audit_events a JOIN organizations o ON o.id = a.organization_id
       WHERE o.slug = $1 ORDER BY a.created_at, a.id`,
      [slug],
    );
    return rows;
  });
}
