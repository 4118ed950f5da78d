import { randomBytes, randomUUID } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { inspect } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLocalSecretStore } from "@/lib/secrets/local";
import { RECOVERY_DAYS, secretName, SecretStoreError, type SecretRef, type SecretStore, type SecretStoreErrorCode } from "@/lib/secrets/store";

const PREFIX = "gitar-test";

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "local-secret-store-"));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const newStore = (encryptionKey?: Buffer, options: { prefix?: string; recoveryDays?: number } = {}): SecretStore =>
  createLocalSecretStore({ dataDir, prefix: options.prefix ?? PREFIX, encryptionKey, recoveryDays: options.recoveryDays });
const DAY_MS = 24 * 60 * 60 * 1000;
const deletedDir = () => path.join(dataDir, "secrets", ".deleted");
const refOf = (organizationId: string) => `local:${secretName(PREFIX, organizationId)}`;
/** A write as the use cases make it: a fresh request token per attempt, and the recorded version (if any). */
const put = (store: SecretStore, organizationId: string, token: string, previous: SecretRef | null = null) =>
  store.write(organizationId, token, { requestToken: randomUUID(), previous });

/** The files deleteSecret set aside, with the moment each name says it was deleted. */
async function setAside(): Promise<Array<{ file: string; organizationId: string; deletedAt: number }>> {
  let names: string[];
  try {
    names = await readdir(deletedDir());
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return [];
    throw error;
  }
  return names.map((name) => {
    const match = /^(.+)@(\d{13})\.json$/.exec(name);
    expect(match, name).not.toBeNull();
    return { file: path.join(deletedDir(), name), organizationId: match![1]!, deletedAt: Number(match![2]) };
  });
}
const newToken = () => `bkua_${randomBytes(20).toString("hex")}`;
const secretFile = (organizationId: string) => path.join(dataDir, "secrets", `${secretName(PREFIX, organizationId)}.json`);
const keyFile = () => path.join(dataDir, "secrets", "encryption.key");
const mode = async (file: string) => (await stat(file)).mode & 0o777;

type StoredVersion = { id: string; requestToken: string; iv: string; tag: string; ciphertext: string };
type StoredFile = { name: string; current: StoredVersion; previous: StoredVersion | null };
const readStored = async (organizationId: string) => JSON.parse(await readFile(secretFile(organizationId), "utf8")) as StoredFile;
const writeStored = (organizationId: string, stored: StoredFile) => writeFile(secretFile(organizationId), JSON.stringify(stored));

async function expectStoreError(promise: Promise<unknown>, code: SecretStoreErrorCode, token?: string): Promise<SecretStoreError> {
  const error: unknown = await promise.then(
    () => new Error("expected the call to fail"),
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(SecretStoreError);
  const storeError = error as SecretStoreError;
  expect(storeError.code, storeError.message).toBe(code);
  if (token) for (const text of [storeError.message, storeError.stack ?? "", inspect(storeError)]) expect(text).not.toContain(token);
  return storeError;
}

async function allFiles(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
}

function flipByte(base64: string, index = 0): string {
  const bytes = Buffer.from(base64, "base64");
  bytes[index] = bytes[index]! ^ 0x01;
  return bytes.toString("base64");
}

describe("local secret store", () => {
  it("round-trips a token and names its ref local:<secret name>", async () => {
    const store = newStore();
    const organizationId = randomUUID();
    const token = newToken();

    const written = await store.write(organizationId, token, { requestToken: randomUUID(), previous: null });

    expect(written.ref).toBe(`local:${PREFIX}/${organizationId}/buildkite-api-token`);
    expect(written.version).toMatch(/^[0-9a-f-]{36}$/);
    expect(await store.read(organizationId, written)).toBe(token);
    expect(await newStore().read(organizationId, written)).toBe(token);
  });

  it("uses a fresh IV for every write", async () => {
    const store = newStore();
    const organizationId = randomUUID();
    const token = newToken();
    await store.write(organizationId, token, { requestToken: randomUUID(), previous: null });
    await store.write(organizationId, token, { requestToken: randomUUID(), previous: null });

    const { current, previous } = await readStored(organizationId);
    expect(Buffer.from(current.iv, "base64")).toHaveLength(12);
    expect(current.iv).not.toBe(previous?.iv);
    expect(current.ciphertext).not.toBe(previous?.ciphertext);
  });

  it("writes no plaintext to disk, files 0600 and directories 0700", async () => {
    const organizationId = randomUUID();
    const token = newToken();
    await newStore().write(organizationId, token, { requestToken: randomUUID(), previous: null });

    const files = await allFiles(dataDir);
    expect(files.sort()).toEqual([keyFile(), secretFile(organizationId)].sort());
    for (const file of files) {
      const bytes = await readFile(file);
      expect(bytes.includes(token)).toBe(false);
      expect(bytes.includes(Buffer.from(token).toString("base64"))).toBe(false);
      expect(await mode(file)).toBe(0o600);
    }
    for (let directory = path.dirname(secretFile(organizationId)); directory !== dataDir; directory = path.dirname(directory)) {
      expect(await mode(directory), directory).toBe(0o700);
    }
  });

  it.each(["ciphertext", "tag", "iv"] as const)("reports corrupt when a byte of the %s is flipped", async (field) => {
    const store = newStore();
    const organizationId = randomUUID();
    const token = newToken();
    const written = await store.write(organizationId, token, { requestToken: randomUUID(), previous: null });
    const stored = await readStored(organizationId);
    stored.current[field] = flipByte(stored.current[field]);
    await writeStored(organizationId, stored);

    await expectStoreError(store.read(organizationId, written), "corrupt", token);
  });

  it("reports corrupt for a file moved to another organisation's name", async () => {
    const store = newStore();
    const victim = randomUUID();
    const other = randomUUID();
    const written = await store.write(victim, newToken(), { requestToken: randomUUID(), previous: null });
    await mkdir(path.dirname(secretFile(other)), { recursive: true });
    await rename(secretFile(victim), secretFile(other));
    const moved = { ref: `local:${secretName(PREFIX, other)}`, version: written.version };

    await expectStoreError(store.read(other, moved), "corrupt");

    // Even with its name field rewritten, the ciphertext stays bound to the original secret.
    const stored = await readStored(other);
    await writeStored(other, { ...stored, name: secretName(PREFIX, other) });
    await expectStoreError(store.read(other, moved), "corrupt");
  });

  it("reports not_found for a missing file or version, and corrupt for a file that is not ours", async () => {
    const store = newStore();
    const organizationId = randomUUID();
    await expectStoreError(store.read(organizationId, { ref: `local:${secretName(PREFIX, organizationId)}`, version: randomUUID() }), "not_found");
    const written = await store.write(organizationId, newToken(), { requestToken: randomUUID(), previous: null });
    await expectStoreError(store.read(organizationId, { ref: written.ref, version: randomUUID() }), "not_found");
    await writeFile(secretFile(organizationId), "not json");
    await expectStoreError(store.read(organizationId, written), "corrupt");
    await expectStoreError(store.read(organizationId, { ref: "local:../../etc/passwd", version: written.version }), "corrupt");
  });

  it("generates the key file once with mode 0600 and reuses it", async () => {
    const organizationId = randomUUID();
    const written = await newStore().write(organizationId, newToken(), { requestToken: randomUUID(), previous: null });
    const key = await readFile(keyFile(), "utf8");
    expect(Buffer.from(key.trim(), "base64")).toHaveLength(32);
    expect(await mode(keyFile())).toBe(0o600);

    await newStore().write(randomUUID(), newToken(), { requestToken: randomUUID(), previous: null });
    expect(await readFile(keyFile(), "utf8")).toBe(key);
    await newStore().read(organizationId, written);
  });

  it("agrees on one key when several stores start at once", async () => {
    const stores = Array.from({ length: 8 }, () => newStore());
    const organizationIds = stores.map(() => randomUUID());
    const tokens = stores.map(() => newToken());
    const refs = await Promise.all(stores.map((store, index) => store.write(organizationIds[index]!, tokens[index]!, { requestToken: randomUUID(), previous: null })));

    const reader = newStore();
    expect(await Promise.all(refs.map((ref, index) => reader.read(organizationIds[index]!, ref)))).toEqual(tokens);
    expect((await readdir(path.join(dataDir, "secrets"))).filter((name) => name.startsWith("encryption.key"))).toEqual(["encryption.key"]);
  });

  it("never generates a new key while secrets encrypted under the lost one remain, and says how to recover", async () => {
    const connected = randomUUID();
    const written = await put(newStore(), connected, "bkua_before_the_key_was_lost");
    await rm(keyFile());
    const token = newToken();

    // One at a time: a second attempt started early could reject before anything awaits it (an unhandled rejection).
    for (const attempt of [
      () => newStore().write(randomUUID(), token, { requestToken: randomUUID(), previous: null }),
      () => newStore().read(connected, written),
    ]) {
      const error = await expectStoreError(attempt(), "misconfigured", token);
      expect(error.message).toContain("encryption.key");
      expect(error.message).toContain("SECRETS_ENCRYPTION_KEY");
    }
    await expect(stat(keyFile())).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("counts a secret set aside by a disconnect as one that needs the key", async () => {
    const organizationId = randomUUID();
    const store = newStore();
    await put(store, organizationId, newToken());
    await store.deleteSecret(organizationId, refOf(organizationId));
    await rm(keyFile());

    await expectStoreError(newStore().write(randomUUID(), newToken(), { requestToken: randomUUID(), previous: null }), "misconfigured");
    await expect(stat(keyFile())).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("fails with misconfigured on a malformed key file and never overwrites it", async () => {
    await mkdir(path.join(dataDir, "secrets"), { recursive: true });
    await writeFile(keyFile(), "too-short\n");
    const token = newToken();

    const error = await expectStoreError(newStore().write(randomUUID(), token, { requestToken: randomUUID(), previous: null }), "misconfigured", token);
    expect(error.message).toContain("encryption.key");
    expect(await readFile(keyFile(), "utf8")).toBe("too-short\n");
  });

  it("uses a configured encryption key instead of a key file", async () => {
    const key = randomBytes(32);
    const organizationId = randomUUID();
    const written = await newStore(key).write(organizationId, "bkua_configured", { requestToken: randomUUID(), previous: null });
    expect(await newStore(key).read(organizationId, written)).toBe("bkua_configured");
    await expect(stat(keyFile())).rejects.toThrow();
    await expectStoreError(newStore(randomBytes(32)).read(organizationId, written), "corrupt");
  });

  it("returns the current version for a retried request token instead of writing another", async () => {
    const store = newStore();
    const organizationId = randomUUID();
    const token = newToken();
    const requestToken = randomUUID();
    const first = await store.write(organizationId, token, { requestToken, previous: null });
    const before = await readFile(secretFile(organizationId), "utf8");

    expect(await store.write(organizationId, token, { requestToken, previous: null })).toEqual(first);
    expect(await readFile(secretFile(organizationId), "utf8")).toBe(before);

    const other = newToken();
    await expectStoreError(store.write(organizationId, other, { requestToken, previous: null }), "misconfigured", other);
  });

  it("keeps the previous version readable after a new write", async () => {
    const store = newStore();
    const organizationId = randomUUID();
    const v1 = await store.write(organizationId, "bkua_one", { requestToken: randomUUID(), previous: null });
    const v2 = await store.write(organizationId, "bkua_two", { requestToken: randomUUID(), previous: v1 });
    const v3 = await store.write(organizationId, "bkua_three", { requestToken: randomUUID(), previous: v2 });

    expect(await store.read(organizationId, v3)).toBe("bkua_three");
    expect(await store.read(organizationId, v2)).toBe("bkua_two");
    await expectStoreError(store.read(organizationId, v1), "not_found");
  });

  it("rolls back to the previous version, idempotently", async () => {
    const store = newStore();
    const organizationId = randomUUID();
    const previous = await store.write(organizationId, "bkua_old", { requestToken: randomUUID(), previous: null });
    const written = await store.write(organizationId, "bkua_new", { requestToken: randomUUID(), previous });

    await store.undoWrite(organizationId, written, previous);
    await store.undoWrite(organizationId, written, previous);

    const stored = await readStored(organizationId);
    expect(stored.current.id).toBe(previous.version);
    expect(stored.previous).toBeNull();
    expect(await store.read(organizationId, previous)).toBe("bkua_old");
    await expectStoreError(store.read(organizationId, written), "not_found");
  });

  it("rolls back a first write by deleting the file, idempotently", async () => {
    const store = newStore();
    const organizationId = randomUUID();
    const written = await store.write(organizationId, newToken(), { requestToken: randomUUID(), previous: null });

    await store.undoWrite(organizationId, written, null);
    await store.undoWrite(organizationId, written, null);

    await expect(stat(secretFile(organizationId))).rejects.toThrow();
    await expectStoreError(store.read(organizationId, written), "not_found");
  });

  it("leaves a newer write alone when rolling back an older one", async () => {
    const store = newStore();
    const organizationId = randomUUID();
    const written = await store.write(organizationId, "bkua_mine", { requestToken: randomUUID(), previous: null });
    const newer = await store.write(organizationId, "bkua_newer", { requestToken: randomUUID(), previous: written });

    await store.undoWrite(organizationId, written, null);

    expect(await store.read(organizationId, newer)).toBe("bkua_newer");
  });

  it("refuses organisation ids that could leave the prefix, without echoing them", async () => {
    const store = newStore();
    for (const organizationId of ["../escape", "a/b", "", ".", "bkua_secret value"]) {
      const attempt = store.write(organizationId, newToken(), { requestToken: randomUUID(), previous: null });
      await expect(attempt).rejects.toThrow(TypeError);
      await attempt.catch((error: Error) => {
        if (organizationId) expect(error.message).not.toContain(organizationId);
      });
    }
    expect(await allFiles(dataDir)).toEqual([]);
  });

  it("replaces a damaged file on the next write, keeping the damaged one aside", async () => {
    const store = newStore();
    const organizationId = randomUUID();
    await store.write(organizationId, newToken(), { requestToken: randomUUID(), previous: null });
    await writeFile(secretFile(organizationId), "{ damaged");

    const written = await store.write(organizationId, "bkua_fresh", { requestToken: randomUUID(), previous: null });

    expect(await store.read(organizationId, written)).toBe("bkua_fresh");
    const siblings = await readdir(path.dirname(secretFile(organizationId)));
    expect(siblings.some((name) => name.includes(".corrupt-"))).toBe(true);
  });
});

describe("abandonWrite", () => {
  it("undoes the attempt made with that request token, and only that one", async () => {
    const store = newStore(randomBytes(32));
    const organizationId = randomUUID();
    const first = await store.write(organizationId, "bkua_first_token_value", { requestToken: randomUUID(), previous: null });
    const attempt = randomUUID();
    await store.write(organizationId, "bkua_second_token_value", { requestToken: attempt, previous: first });

    await store.abandonWrite(organizationId, randomUUID(), first);
    await store.abandonWrite(organizationId, attempt, first);
    // The first version is current again: a new write keeps it as the previous one, still readable by its id.
    const third = await store.write(organizationId, "bkua_third_token_value", { requestToken: randomUUID(), previous: first });
    expect(await store.read(organizationId, first)).toBe("bkua_first_token_value");
    expect(await store.read(organizationId, third)).toBe("bkua_third_token_value");

    const lone = randomUUID();
    const other = randomUUID();
    await store.write(other, "bkua_lone_token_value", { requestToken: lone, previous: null });
    await store.abandonWrite(other, lone, null);
    await expect(stat(secretFile(other))).rejects.toMatchObject({ code: "ENOENT" });
  });
});

describe("undoWrite", () => {
  it("never touches a version that is no longer current", async () => {
    const store = newStore();
    const organizationId = randomUUID();
    const recorded = await put(store, organizationId, "bkua_recorded");
    const written = await put(store, organizationId, "bkua_written", recorded);
    const newer = await put(store, organizationId, "bkua_newer", recorded);
    const before = await readFile(secretFile(organizationId), "utf8");

    await store.undoWrite(organizationId, written, recorded);
    await store.undoWrite(organizationId, recorded, null);

    expect(await readFile(secretFile(organizationId), "utf8")).toBe(before);
    expect(await store.read(organizationId, newer)).toBe("bkua_newer");
  });

  it("is a no-op once the secret is gone", async () => {
    const store = newStore();
    const organizationId = randomUUID();
    const written = await put(store, organizationId, newToken());
    await store.deleteSecret(organizationId, written.ref);

    await store.undoWrite(organizationId, written, null);

    expect(await setAside()).toHaveLength(1);
    await expect(stat(secretFile(organizationId))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("reports not_found, changing nothing, when the previous version is no longer kept", async () => {
    const store = newStore();
    const organizationId = randomUUID();
    const recorded = await put(store, organizationId, "bkua_recorded");
    const unrecorded = await put(store, organizationId, "bkua_unrecorded", recorded);
    const written = await put(store, organizationId, "bkua_written", recorded);
    const before = await readFile(secretFile(organizationId), "utf8");

    await expectStoreError(store.undoWrite(organizationId, written, recorded), "not_found");

    expect(await readFile(secretFile(organizationId), "utf8")).toBe(before);
    expect(await store.read(organizationId, unrecorded)).toBe("bkua_unrecorded");
  });

  it("refuses a reference that belongs to another organisation", async () => {
    const store = newStore();
    const victim = randomUUID();
    const written = await put(store, victim, newToken());
    await expect(store.undoWrite(randomUUID(), written, null)).rejects.toThrow(TypeError);
    expect(await store.read(victim, written)).toBeDefined();
  });

  it("honours a caller's deadline: nothing is written or read once it has passed", async () => {
    const organizationId = randomUUID();
    const written = await put(newStore(), organizationId, "bkua_before");
    const late = newStore().withSignal(AbortSignal.abort());

    await expectStoreError(late.write(randomUUID(), "bkua_late", { requestToken: randomUUID(), previous: null }), "timeout", "bkua_late");
    await expectStoreError(late.read(organizationId, written), "timeout", "bkua_before");
    expect(await late.withSignal(new AbortController().signal).read(organizationId, written)).toBe("bkua_before");
    expect((await newStore().list()).map((entry) => entry.organizationId)).toEqual([organizationId]);
  });

  it("never reads another organisation's secret, even when handed its reference", async () => {
    const store = newStore();
    const victim = randomUUID();
    const theirs = await put(store, victim, "bkua_theirs");
    await expectStoreError(store.read(randomUUID(), theirs), "misconfigured", "bkua_theirs");
    expect(await store.read(victim, theirs)).toBe("bkua_theirs");
  });
});

describe("deleteSecret", () => {
  it("sets the file aside as .deleted/<organisation>@<epoch ms>.json, 0600 in a 0700 directory, still encrypted", async () => {
    const store = newStore();
    const organizationId = randomUUID();
    const token = newToken();
    const written = await put(store, organizationId, token);
    const before = Date.now();

    await store.deleteSecret(organizationId, written.ref);

    const [aside, ...more] = await setAside();
    expect(more).toEqual([]);
    expect(aside!.organizationId).toBe(organizationId);
    expect(aside!.deletedAt).toBeGreaterThanOrEqual(before);
    expect(aside!.deletedAt).toBeLessThanOrEqual(Date.now());
    expect(await mode(aside!.file)).toBe(0o600);
    expect(await mode(deletedDir())).toBe(0o700);
    expect(await mode(path.dirname(secretFile(organizationId)))).toBe(0o700);
    const bytes = await readFile(aside!.file);
    expect(bytes.includes(token)).toBe(false);
    await expect(stat(secretFile(organizationId))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("leaves a deleted secret unreadable and unlisted", async () => {
    const store = newStore();
    const organizationId = randomUUID();
    const first = await put(store, organizationId, "bkua_first");
    const second = await put(store, organizationId, "bkua_second", first);
    const kept = randomUUID();
    await put(store, kept, newToken());

    await store.deleteSecret(organizationId, second.ref);

    await expectStoreError(store.read(organizationId, second), "not_found");
    await expectStoreError(store.read(organizationId, first), "not_found");
    expect(await store.list()).toEqual([{ organizationId: kept, ref: refOf(kept), deleted: false }]);
  });

  it("is idempotent", async () => {
    const store = newStore();
    const organizationId = randomUUID();
    const written = await put(store, organizationId, newToken());

    await store.deleteSecret(organizationId, written.ref);
    await store.deleteSecret(organizationId, written.ref);
    // Nothing was ever stored for this one: also done.
    const never = randomUUID();
    await store.deleteSecret(never, refOf(never));

    expect(await setAside()).toHaveLength(1);
  });

  it("deletes only that organisation's secret, and refuses another organisation's reference", async () => {
    const store = newStore();
    const mine = randomUUID();
    const theirs = randomUUID();
    await put(store, mine, newToken());
    const their = await put(store, theirs, "bkua_theirs");

    await expect(store.deleteSecret(mine, their.ref)).rejects.toThrow(TypeError);
    await store.deleteSecret(mine, refOf(mine));

    expect(await store.read(theirs, their)).toBe("bkua_theirs");
  });

  it("starts a fresh secret when the organisation connects again", async () => {
    const store = newStore();
    const organizationId = randomUUID();
    const old = await put(store, organizationId, "bkua_old");
    await store.deleteSecret(organizationId, old.ref);

    const fresh = await put(store, organizationId, "bkua_fresh");

    expect(fresh.ref).toBe(old.ref);
    expect(fresh.version).not.toBe(old.version);
    expect(await store.read(organizationId, fresh)).toBe("bkua_fresh");
    await expectStoreError(store.read(organizationId, old), "not_found");
    const stored = await readStored(organizationId);
    expect(stored.previous).toBeNull();
    expect(await mode(secretFile(organizationId))).toBe(0o600);
    expect(await store.list()).toEqual([{ organizationId, ref: fresh.ref, deleted: false }]);
    // The set-aside copy stays where it was until purged.
    expect(await setAside()).toHaveLength(1);
  });
});

describe("restoreCurrent", () => {
  it("answers current when the recorded version is current, changing nothing", async () => {
    const store = newStore();
    const organizationId = randomUUID();
    const recorded = await put(store, organizationId, "bkua_recorded");
    const before = await readFile(secretFile(organizationId), "utf8");

    expect(await store.restoreCurrent(organizationId, recorded)).toBe("current");
    expect(await readFile(secretFile(organizationId), "utf8")).toBe(before);
  });

  it("makes the recorded version current again after an unrecorded write", async () => {
    const store = newStore();
    const organizationId = randomUUID();
    const recorded = await put(store, organizationId, "bkua_recorded");
    const unrecorded = await put(store, organizationId, "bkua_unrecorded", recorded);

    expect(await store.restoreCurrent(organizationId, recorded)).toBe("restored");

    const stored = await readStored(organizationId);
    expect(stored.current.id).toBe(recorded.version);
    // The unrecorded token is dropped: nothing recorded it, so nothing should be able to read it.
    expect(stored.previous).toBeNull();
    await expectStoreError(store.read(organizationId, unrecorded), "not_found");
    expect(await store.read(organizationId, recorded)).toBe("bkua_recorded");
    expect(await store.restoreCurrent(organizationId, recorded)).toBe("current");
    // The next write keeps the recorded version as the previous one.
    const next = await put(store, organizationId, "bkua_next", recorded);
    expect((await readStored(organizationId)).previous?.id).toBe(recorded.version);
    expect(await store.read(organizationId, next)).toBe("bkua_next");
  });

  it("reports not_found when the recorded version is gone", async () => {
    const store = newStore();
    const organizationId = randomUUID();
    const recorded = await put(store, organizationId, "bkua_recorded");
    const second = await put(store, organizationId, "bkua_second", recorded);
    await put(store, organizationId, "bkua_third", second);

    await expectStoreError(store.restoreCurrent(organizationId, recorded), "not_found");
    const never = randomUUID();
    await expectStoreError(store.restoreCurrent(never, { ref: refOf(never), version: randomUUID() }), "not_found");
    // A reference this store did not write for that organisation (another backend, another prefix) is a setup
    // problem the reconciler reports, not a missing secret.
    await expectStoreError(store.restoreCurrent(never, recorded), "misconfigured");
  });

  it("brings back a recorded secret that was deleted behind the record's back, while it is still set aside", async () => {
    const store = newStore();
    const organizationId = randomUUID();
    const token = newToken();
    const recorded = await put(store, organizationId, token);
    await store.deleteSecret(organizationId, recorded.ref);

    expect(await store.restoreCurrent(organizationId, recorded)).toBe("restored");

    expect(await store.read(organizationId, recorded)).toBe(token);
    expect((await store.list()).map((entry) => entry.organizationId)).toContain(organizationId);
  });

  it("reports not_found for a deleted secret once it has been purged", async () => {
    const store = newStore();
    const organizationId = randomUUID();
    const recorded = await put(store, organizationId, newToken());
    await store.deleteSecret(organizationId, recorded.ref);
    await store.purgeDeleted(new Date(Date.now() + 31 * 24 * 60 * 60 * 1000));

    await expectStoreError(store.restoreCurrent(organizationId, recorded), "not_found");
    await expect(stat(secretFile(organizationId))).rejects.toMatchObject({ code: "ENOENT" });
  });
});

describe("list", () => {
  it("finds every organisation's secret under the prefix, and nothing else", async () => {
    const store = newStore();
    const organizations = Array.from({ length: 5 }, () => randomUUID());
    for (const organizationId of organizations) await put(store, organizationId, newToken());
    // Another prefix in the same data directory, a nested prefix, and things no write of ours makes.
    await put(newStore(undefined, { prefix: "other-app" }), randomUUID(), newToken());
    await put(newStore(undefined, { prefix: `${PREFIX}/team` }), randomUUID(), newToken());
    const root = path.join(dataDir, "secrets", PREFIX);
    await mkdir(path.join(root, "bad name!"), { recursive: true });
    await writeFile(path.join(root, "bad name!", "buildkite-api-token.json"), "{}");
    await mkdir(path.join(root, "empty-org"), { recursive: true });
    await mkdir(path.join(root, "other-secret"), { recursive: true });
    await writeFile(path.join(root, "other-secret", "something-else.json"), "{}");
    await writeFile(path.join(root, "stray-file.json"), "{}");

    const listed = await store.list();

    expect(listed.sort((a, b) => a.organizationId.localeCompare(b.organizationId))).toEqual(
      organizations.sort().map((organizationId) => ({ organizationId, ref: refOf(organizationId), deleted: false })),
    );
    for (const entry of listed) expect(await store.read(entry.organizationId, { ref: entry.ref, version: (await readStored(entry.organizationId)).current.id })).toMatch(/^bkua_/);
  });

  it("is empty before anything was written", async () => {
    expect(await newStore().list()).toEqual([]);
  });

  // A stray regular file named like an organisation id, directly under secrets/<prefix>/, once failed the whole
  // listing with ENOTDIR, leaving the reconciler blind.
  it("skips a stray file under the prefix instead of failing the whole listing", async () => {
    const store = newStore();
    const organizationId = randomUUID();
    await put(store, organizationId, newToken());
    await writeFile(path.join(dataDir, "secrets", PREFIX, "README"), "notes\n");

    expect(await store.list()).toEqual([{ organizationId, ref: refOf(organizationId), deleted: false }]);
  });
});

describe("purgeDeleted", () => {
  it("removes set-aside secrets once the recovery window has passed, and not a millisecond before", async () => {
    const store = newStore();
    const organizationId = randomUUID();
    await put(store, organizationId, newToken());
    await store.deleteSecret(organizationId, refOf(organizationId));
    const aside = await setAside();
    expect(aside).toHaveLength(1);
    const { deletedAt, file } = aside[0]!;
    const window = RECOVERY_DAYS.default * DAY_MS;
    expect(RECOVERY_DAYS.default).toBe(7);

    expect(await store.purgeDeleted(new Date(deletedAt + window - 1))).toBe(0);
    expect(await stat(file)).toBeDefined();
    expect(await store.purgeDeleted(new Date(deletedAt + window))).toBe(1);
    await expect(stat(file)).rejects.toMatchObject({ code: "ENOENT" });
    expect(await store.purgeDeleted(new Date(deletedAt + 2 * window))).toBe(0);
  });

  it("keeps them for the configured recovery window", async () => {
    const store = newStore(undefined, { recoveryDays: 30 });
    const organizations = [randomUUID(), randomUUID()];
    for (const organizationId of organizations) {
      await put(store, organizationId, newToken());
      await store.deleteSecret(organizationId, refOf(organizationId));
    }
    const latest = Math.max(...(await setAside()).map((entry) => entry.deletedAt));

    expect(await store.purgeDeleted(new Date(latest + 7 * DAY_MS))).toBe(0);
    expect(await store.purgeDeleted(new Date(latest + 29 * DAY_MS))).toBe(0);
    expect(await setAside()).toHaveLength(2);
    expect(await store.purgeDeleted(new Date(latest + 30 * DAY_MS))).toBe(2);
    expect(await setAside()).toEqual([]);
  });

  it("leaves live secrets and files it did not set aside alone", async () => {
    const store = newStore();
    const live = randomUUID();
    const written = await put(store, live, "bkua_live");
    await mkdir(deletedDir(), { recursive: true, mode: 0o700 });
    await writeFile(path.join(deletedDir(), "notes.txt"), "keep me");

    expect(await store.purgeDeleted(new Date(Date.now() + 365 * DAY_MS))).toBe(0);

    expect(await readFile(path.join(deletedDir(), "notes.txt"), "utf8")).toBe("keep me");
    expect(await store.read(live, written)).toBe("bkua_live");
  });

  it("has nothing to do before anything was deleted", async () => {
    expect(await newStore().purgeDeleted()).toBe(0);
  });
});
