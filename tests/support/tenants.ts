// Organisations, admins and Buildkite tokens made fresh for each test, and real database faults.
import { randomBytes, randomUUID } from "node:crypto";
import { expect } from "vitest";
import type { Database } from "@/lib/db/client";
import type { BuildkiteScenario, BuildkiteStandIn, OkScenario } from "./buildkite-stand-in";

export type Tenant = { organizationId: string; actor: { userId: string; email: string } };

export async function createTenant(db: Database, role: "admin" | "member" = "admin"): Promise<Tenant> {
  const id = randomUUID();
  const organization = await db.organization.create({ data: { name: `Org ${id}`, slug: `org-${id}` } });
  const user = await db.user.create({ data: { email: `${role}-${id}@example.test`, name: role === "admin" ? "Ada Admin" : "Mo Member" } });
  await db.membership.create({ data: { userId: user.id, organizationId: organization.id, role } });
  return { organizationId: organization.id, actor: { userId: user.id, email: user.email } };
}

/** A token nobody else uses, answered like `scenario` (ok scenarios get a known UUID). */
export function freshToken(buildkite: BuildkiteStandIn, scenario: BuildkiteScenario): { token: string; uuid: string } {
  const token = `bkua_MTA.${randomBytes(18).toString("hex")}`;
  const uuid = randomUUID();
  const withUuid = (ok: OkScenario): OkScenario => ({ ...ok, uuid });
  const registered: BuildkiteScenario =
    scenario.kind === "ok" ? withUuid(scenario) : "then" in scenario ? { ...scenario, then: withUuid(scenario.then) } : scenario;
  buildkite.register(token, registered);
  return { token, uuid };
}

/** Every row that could ever hold a token by mistake, as JSON text. */
export async function dumpedRows(db: Database): Promise<string[]> {
  const rows = await db.$queryRawUnsafe<Array<{ json: string }>>(
    `SELECT row_to_json(c)::text AS json FROM buildkite_connections c
     UNION ALL SELECT row_to_json(a)::text AS json FROM audit_events a`,
  );
  return rows.map((row) => row.json);
}

export async function expectTokenNowhereInDatabase(db: Database, token: string) {
  for (const row of await dumpedRows(db)) expect(row).not.toContain(token);
}

export const connectionsOf = (db: Database, organizationId: string) => db.buildkiteConnection.findMany({ where: { organizationId } });
export const auditOf = (db: Database, organizationId: string) =>
  db.auditEvent.findMany({ where: { organizationId }, orderBy: [{ createdAt: "asc" }, { id: "asc" }] });

/**
 * A real database fault: a trigger that refuses writes of this organisation's connection row — all of them, or
 * only those recording a given Buildkite token UUID (so one of two concurrent changes fails and the other does not).
 */
export async function refuseConnectionWrites(
  db: Database,
  organizationId: string,
  options: { tokenUuid?: string; operations?: Array<"INSERT" | "UPDATE" | "DELETE"> } = {},
): Promise<() => Promise<void>> {
  const name = `refuse_${randomBytes(6).toString("hex")}`;
  const row = (column: string) => `(CASE WHEN TG_OP = 'DELETE' THEN OLD.${column} ELSE NEW.${column} END)`;
  const tokenCondition = options.tokenUuid ? ` AND ${row("token_uuid")} = '${options.tokenUuid}'` : "";
  await db.$executeRawUnsafe(
    `CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       IF ${row("organization_id")} = '${organizationId}'::uuid${tokenCondition} THEN RAISE EXCEPTION 'injected fault: writes refused'; END IF;
       IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
       RETURN NEW;
     END $$`,
  );
  await db.$executeRawUnsafe(
    `CREATE TRIGGER ${name} BEFORE ${(options.operations ?? ["INSERT", "UPDATE"]).join(" OR ")} ON buildkite_connections
     FOR EACH ROW EXECUTE FUNCTION ${name}()`,
  );
  let dropped = false;
  return async () => {
    if (dropped) return;
    dropped = true;
    await db.$executeRawUnsafe(`DROP TRIGGER IF EXISTS ${name} ON buildkite_connections`);
    await db.$executeRawUnsafe(`DROP FUNCTION IF EXISTS ${name}()`);
  };
}

/** Resolves once `condition` holds, or after `timeoutMs` (resolving false): a gate a test can also give up on. */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  return condition();
}
