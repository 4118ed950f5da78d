// A rename is durable only once the directory that holds the name is flushed: without it, a power cut after
// "Connected" can bring back the old file (or none). Node's own file system does the work; this test only watches
// which calls reach it, in which order, by wrapping node:fs/promises (our code is not replaced).
import { randomUUID } from "node:crypto";
import type { FileHandle } from "node:fs/promises";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, expect, it, vi } from "vitest";

const events: string[] = [];

vi.mock("node:fs/promises", async (importOriginal) => {
  const real = await importOriginal<typeof import("node:fs/promises")>();
  const watched = {
    ...real,
    async open(...args: Parameters<typeof real.open>): Promise<FileHandle> {
      const handle = await real.open(...args);
      const opened = String(args[0]);
      const sync = handle.sync.bind(handle);
      handle.sync = async () => {
        events.push(`sync ${opened}`);
        return sync();
      };
      return handle;
    },
    async rename(from: string, to: string) {
      await real.rename(from, to);
      events.push(`rename ${path.dirname(to)}`);
    },
    async link(from: string, to: string) {
      await real.link(from, to);
      events.push(`rename ${path.dirname(to)}`);
    },
  };
  return { ...watched, default: watched };
});

const { createLocalSecretStore } = await import("@/lib/secrets/local");
const { secretName } = await import("@/lib/secrets/store");

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "local-secret-durability-"));
  events.length = 0;
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

/** Every rename into a directory is followed, before the call returns, by a flush of that directory. */
function expectEachRenameFlushed() {
  const renames = events.flatMap((event, index) => (event.startsWith("rename ") ? [{ index, directory: event.slice(7) }] : []));
  expect(renames.length).toBeGreaterThan(0);
  for (const { index, directory } of renames) {
    expect(events.slice(index + 1), `no flush of ${directory} after its rename`).toContain(`sync ${directory}`);
  }
}

it("flushes the secret's directory after writing, deleting and restoring a secret", async () => {
  const store = createLocalSecretStore({ dataDir, prefix: "gitar-test" });
  const organizationId = randomUUID();
  const ref = await store.write(organizationId, "bkua_durable", { requestToken: randomUUID(), previous: null });
  expectEachRenameFlushed();

  events.length = 0;
  await store.write(organizationId, "bkua_durable_next", { requestToken: randomUUID(), previous: ref });
  expectEachRenameFlushed();

  events.length = 0;
  await store.deleteSecret(organizationId, `local:${secretName("gitar-test", organizationId)}`);
  expectEachRenameFlushed();

  events.length = 0;
  await store.restoreCurrent(organizationId, ref);
  expectEachRenameFlushed();
});
