import { spawn } from "node:child_process";
import path from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { personActor } from "@/lib/audit/actor";
import { connectBuildkite } from "@/lib/integrations/buildkite/connect";
import { reconcileSecrets } from "@/lib/integrations/buildkite/reconcile";
import { connectFresh, DAY_MS, goodScenario } from "../support/connection-checks";
import { setUpIntegrationHarness } from "../support/integration-harness";
import { awsBackend, freshBackendPerTest, localBackend, type SecretBackend } from "../support/secret-backends";
import { freshToken } from "../support/tenants";
import { tenantTracker } from "../support/connection-checks";
import type { CrashPlan, CrashPoint } from "./support/crash-child";

/**
 * Crash safety, for real: a child process runs a connect, rotate or disconnect against this run's Postgres, the
 * Buildkite stand-in and a real secret store, and is killed with SIGKILL at each step — before and after the secret
 * write, before and after the database write (disconnect: after the revoke, before and after the secret's
 * deletion). Then what a restart does runs: the reconciler (it runs at start and on the job runner). Afterwards:
 *   - a record points at a secret that reads back as one of the tokens the organisation had, as the current version;
 *   - no live secret is left without a record (an orphan is deleted, restorable for the recovery window), and past
 *     the window nothing is left at all;
 *   - the organisation's lock died with the process: the next change goes through.
 */

const root = path.resolve(import.meta.dirname, "../..");
const harness = setUpIntegrationHarness();
const tenants = tenantTracker(() => harness.db);
afterAll(() => tenants.removeAll());

type Case = { operation: CrashPlan["operation"]; at: CrashPoint; expect: "old" | "new" | "none" | "old-or-new" };

const CASES: Case[] = [
  // A first connect: before its commit there is nothing to keep; after it, the new token.
  { operation: "connect", at: "before-secret-write", expect: "none" },
  { operation: "connect", at: "after-secret-write", expect: "none" },
  { operation: "connect", at: "before-record", expect: "none" },
  { operation: "connect", at: "after-record", expect: "new" },
  // A rotation: the old token until the commit, the new one after it. Never neither.
  { operation: "rotate", at: "before-secret-write", expect: "old" },
  { operation: "rotate", at: "after-secret-write", expect: "old" },
  { operation: "rotate", at: "before-record", expect: "old" },
  { operation: "rotate", at: "after-record", expect: "new" },
  // A disconnect revokes, deletes the record, then the secret.
  { operation: "disconnect", at: "after-revoke", expect: "old" },
  { operation: "disconnect", at: "before-secret-delete", expect: "none" },
  { operation: "disconnect", at: "after-secret-delete", expect: "none" },
];

/** Runs the plan in a child process, waits for it to reach its crash point, and kills it there. */
async function runAndKill(plan: CrashPlan): Promise<void> {
  const child = spawn(process.execPath, ["--conditions=react-server", "--import", "tsx", "tests/reliability/support/crash-child.ts"], {
    cwd: root,
    env: { ...process.env, CRASH_PLAN: JSON.stringify(plan) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stderr!.on("data", (chunk) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const reached = await new Promise<string>((resolve) => {
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk;
      const line = output.match(/^(CRASH_POINT \S+|FINISHED .*)$/m);
      if (line) resolve(line[1]!);
    });
    void exited.then(() => resolve(`exited before its crash point:\n${output}`));
  });
  expect(reached).toBe(`CRASH_POINT ${plan.at}`);
  child.kill("SIGKILL");
  expect(await exited).toEqual({ code: null, signal: "SIGKILL" });
}

describe.each([localBackend(), awsBackend(() => harness.secretsManager)])("killed mid-change, with the $name secret store", (backend: SecretBackend) => {
  freshBackendPerTest(backend);

  it.each(CASES)("$operation killed at $at leaves $expect", async ({ operation, at, expect: expected }) => {
    const deps = harness.deps(backend.store());
    const tenant = await tenants.create();
    const { organizationId } = tenant;
    const old = operation === "connect" ? null : await connectFresh(harness, deps, tenant);
    const next = operation === "disconnect" ? undefined : freshToken(harness.buildkite, goodScenario()).token;

    await runAndKill({
      operation,
      at,
      organizationId,
      actor: tenant.actor,
      token: next,
      databaseUrl: inject("databaseUrl"),
      buildkiteUrl: harness.buildkite.url,
      secrets: backend.processSettings(),
    });

    // The restart: the reconciler, as `npm start` runs it.
    await reconcileSecrets(deps);

    const record = await harness.db.buildkiteConnection.findUnique({ where: { organizationId } });
    const secrets = (await backend.store().list()).filter((secret) => secret.organizationId === organizationId);
    if (expected === "none") {
      expect(record).toBeNull();
      expect(secrets.filter((secret) => !secret.deleted), "a live secret without a record").toEqual([]);
    } else {
      expect(record).not.toBeNull();
      const token = await backend.store().read(organizationId, { ref: record!.secretRef, version: record!.secretVersion });
      expect(token).toBe(expected === "old" ? old!.token : next);
      expect((await backend.state(organizationId))?.current, "the recorded version is the current one").toBe(record!.secretVersion);
      expect(record!.status).toBe("connected");
      expect(secrets.filter((secret) => !secret.deleted && secret.ref !== record!.secretRef)).toEqual([]);
    }

    // Past the recovery window, a reconcile leaves nothing of a secret no record refers to.
    await reconcileSecrets({ ...deps, now: () => new Date(Date.now() + 31 * DAY_MS) });
    const left = (await backend.store().list()).filter((secret) => secret.organizationId === organizationId);
    if (expected === "none" && backend.name === "local") expect(left).toEqual([]);

    // The lock went with the killed process: the next change goes through at once.
    const again = freshToken(harness.buildkite, goodScenario()).token;
    const result = await connectBuildkite({ organizationId, actor: personActor(tenant.actor), token: again }, deps);
    expect(result).toMatchObject({ ok: true });
    expect(await backend.store().read(organizationId, await currentRef(organizationId))).toBe(again);
  });
});

async function currentRef(organizationId: string) {
  const row = await harness.db.buildkiteConnection.findUniqueOrThrow({ where: { organizationId } });
  return { ref: row.secretRef, version: row.secretVersion };
}
