import { expect, type Page } from "@playwright/test";
import pg from "pg";
import { DEMO_PASSWORD } from "../../lib/auth/demo-accounts";
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

export async function disconnectOrganization(slug: string) {
  await withDatabase((client) =>
    client.query(
      `DELETE FROM buildkite_connections WHERE organization_id = (SELECT id FROM organizations WHERE slug = $1)`,
      [slug],
    ),
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
