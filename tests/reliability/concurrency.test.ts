import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { personActor } from "@/lib/audit/actor";
import { createBuildkiteClient } from "@/lib/buildkite/client";
import { connectBuildkite } from "@/lib/integrations/buildkite/connect";
import { disconnectBuildkite } from "@/lib/integrations/buildkite/disconnect";
import type { ConnectionFailureCode } from "@/lib/integrations/buildkite/failures";
import { reverifyConnection } from "@/lib/integrations/buildkite/reverify";
import { rotateBuildkiteToken } from "@/lib/integrations/buildkite/rotate";
import { BUILDKITE_FIXTURES } from "../support/buildkite-fixtures";
import { tenantTracker } from "../support/connection-checks";
import { setUpIntegrationHarness } from "../support/integration-harness";
import { awsBackend, freshBackendPerTest, localBackend, type SecretBackend } from "../support/secret-backends";
import { connectionsOf, freshToken } from "../support/tenants";

/**
 * Concurrency at the scale the table in docs/reliability.md names, through the real use cases, on both backends:
 * 200 organisations connecting at once all succeed, each with its own readable, current secret; 50 mixed changes
 * fired at one organisation end in one consistent state, and (where the store counts them) with exactly one secret
 * version written per change that succeeded.
 */

const harness = setUpIntegrationHarness();
const tenants = tenantTracker(() => harness.db);
afterAll(() => tenants.removeAll());

describe.each([localBackend(), awsBackend(() => harness.secretsManager)])("at once, with the $name secret store", (backend: SecretBackend) => {
  freshBackendPerTest(backend);

  it("200 organisations connecting at the same moment all succeed, each on its own current secret", async () => {
    // Buildkite is another machine: the stand-in runs in its own process here, so 400 calls arriving at once are
    // answered beside this process's 200 changes rather than by the same event loop. The production budgets
    // (BUILDKITE_TIMEOUT_MS and OPERATION_DEADLINE_MS defaults), not the harness's short ones.
    const standIn = await startStandInProcess();
    const buildkite = createBuildkiteClient({ baseUrl: standIn.url, connectTimeoutMs: 3_000, timeoutMs: 8_000 });
    try {
      const deps = harness.deps(backend.store(), { buildkite, operationDeadlineMs: 25_000 });
      const organizations = await tenants.createMany(200);
      const tokens = organizations.map(() => `bkua_MTA.${randomBytes(18).toString("hex")}`);
      for (const token of tokens) await standIn.register(token);

      const results = await Promise.all(
        organizations.map((tenant, index) => connectBuildkite({ organizationId: tenant.organizationId, actor: personActor(tenant.actor), token: tokens[index]! }, deps)),
      );

      expect(results.filter((result) => !result.ok)).toEqual([]);
      for (const [index, tenant] of organizations.entries()) {
        const [row] = await connectionsOf(harness.db, tenant.organizationId);
        expect(row?.status).toBe("connected");
        expect(await backend.store().read(tenant.organizationId, { ref: row!.secretRef, version: row!.secretVersion })).toBe(tokens[index]);
        expect((await backend.state(tenant.organizationId))?.current).toBe(row!.secretVersion);
      }
    } finally {
      await buildkite.close();
      await standIn.stop();
    }
  });

  it("50 mixed changes at one organisation: one consistent state, one secret version per change that wrote one", async () => {
    const [tenant] = await tenants.createMany(1);
    const { organizationId } = tenant!;
    const actor = personActor(tenant!.actor);
    const deps = harness.deps(backend.store());
    expect(await connectBuildkite({ organizationId, actor, token: freshToken(harness.buildkite, BUILDKITE_FIXTURES.good).token }, deps)).toMatchObject({ ok: true });
    const versionsBefore = versionsWritten(organizationId);

    const kinds = ["connect", "rotate", "rotate", "verify", "disconnect"] as const;
    const operations = Array.from({ length: 50 }, (_, index) => {
      const kind = kinds[index % kinds.length]!;
      const token = freshToken(harness.buildkite, BUILDKITE_FIXTURES.good).token;
      switch (kind) {
        case "connect":
          return { kind, run: () => connectBuildkite({ organizationId, actor, token }, deps) };
        case "rotate":
          return { kind, run: () => rotateBuildkiteToken({ organizationId, actor, token, revokePrevious: index % 2 === 0 }, deps) };
        case "verify":
          return { kind, run: () => reverifyConnection({ organizationId, actor }, deps) };
        case "disconnect":
          return { kind, run: () => disconnectBuildkite({ organizationId, actor, revokeAtBuildkite: index % 2 === 0, evenIfRevokeFails: true }, deps) };
      }
    });

    const results = await Promise.all(operations.map(async (operation) => ({ kind: operation.kind, result: await operation.run() })));

    // Each happened, or said why not in words an admin gets: never an exception, never a half state.
    const refusals = new Set<ConnectionFailureCode>(["not_connected", "busy"]);
    for (const { result } of results) if (!result.ok) expect(refusals).toContain(result.failure.code);
    const rows = await connectionsOf(harness.db, organizationId);
    const state = await backend.state(organizationId);
    if (rows.length === 0) {
      expect(state === null || state.deleted).toBe(true);
    } else {
      const row = rows[0]!;
      expect(state).toMatchObject({ current: row.secretVersion, deleted: false });
      const token = await backend.store().read(organizationId, { ref: row.secretRef, version: row.secretVersion });
      await expect(harness.client.getAccessToken(token)).resolves.toMatchObject({ uuid: row.tokenUuid });
    }
    if (backend.name === "aws") {
      const wrote = results.filter(({ kind, result }) => (kind === "connect" || kind === "rotate") && result.ok).length;
      expect(versionsWritten(organizationId) - versionsBefore).toBe(wrote);
    }
  });
});

/** Every version the Secrets Manager stand-in holds for the organisation, under any of its secrets (aws backend). */
function versionsWritten(organizationId: string): number {
  return harness.secretsManager
    .secrets()
    .filter((secret) => secret.name.includes(organizationId))
    .reduce((count, secret) => count + secret.versions.length, 0);
}

/** The Buildkite stand-in as its own process (tests/support/buildkite-stand-in-cli.ts), driven over its control API. */
async function startStandInProcess(): Promise<{ url: string; register(token: string): Promise<void>; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ["--import", "tsx", "tests/support/buildkite-stand-in-cli.ts", "--port", "0"], {
    cwd: path.resolve(import.meta.dirname, "../.."),
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let output = "";
    child.stdout!.on("data", (chunk) => {
      output += chunk;
      const found = output.match(/listening on (http:\/\/\S+)/);
      if (found) resolve(found[1]!);
    });
    child.once("exit", (code) => reject(new Error(`the Buildkite stand-in exited (${code}): ${output}`)));
  });
  return {
    url,
    async register(token) {
      const response = await fetch(`${url}/__stand-in/tokens`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ token, scenario: BUILDKITE_FIXTURES.good }),
      });
      expect(response.status).toBe(204);
    },
    async stop() {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}
