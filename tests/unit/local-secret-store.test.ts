import { randomBytes, randomUUID } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { inspect } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLocalSecretStore } from "@/lib/secrets/local";
import { secretName, SecretStoreError, type SecretStore, type SecretStoreErrorCode } from "@/lib/secrets/store";

const PREFIX = "gitar-test";

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "local-secret-store-"));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const newStore = (encryptionKey?: Buffer): SecretStore => createLocalSecretStore({ dataDir, prefix: PREFIX, encryptionKey });
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

    const written = await store.writeBuildkiteToken(organizationId, token, { requestToken: randomUUID() });

    expect(written.ref).toBe(`local:${PREFIX}/${organizationId}/buildkite-api-token`);
    expect(written.version).toMatch(/^[0-9a-f-]{36}$/);
    expect(await store.read(written)).toBe(token);
    expect(await newStore().read(written)).toBe(token);
  });

  it("uses a fresh IV for every write", async () => {
    const store = newStore();
    const organizationId = randomUUID();
    const token = newToken();
    await store.writeBuildkiteToken(organizationId, token, { requestToken: randomUUID() });
    await store.writeBuildkiteToken(organizationId, token, { requestToken: randomUUID() });

    const { current, previous } = await readStored(organizationId);
    expect(Buffer.from(current.iv, "base64")).toHaveLength(12);
    expect(current.iv).not.toBe(previous?.iv);
    expect(current.ciphertext).not.toBe(previous?.ciphertext);
  });

  it("writes no plaintext to disk, files 0600 and directories 0700", async () => {
    const organizationId = randomUUID();
    const token = newToken();
    await newStore().writeBuildkiteToken(organizationId, token, { requestToken: randomUUID() });

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
    const written = await store.writeBuildkiteToken(organizationId, token, { requestToken: randomUUID() });
    const stored = await readStored(organizationId);
    stored.current[field] = flipByte(stored.current[field]);
    await writeStored(organizationId, stored);

    await expectStoreError(store.read(written), "corrupt", token);
  });

  it("reports corrupt for a file moved to another organisation's name", async () => {
    const store = newStore();
    const victim = randomUUID();
    const other = randomUUID();
    const written = await store.writeBuildkiteToken(victim, newToken(), { requestToken: randomUUID() });
    await mkdir(path.dirname(secretFile(other)), { recursive: true });
    await rename(secretFile(victim), secretFile(other));
    const moved = { ref: `local:${secretName(PREFIX, other)}`, version: written.version };

    await expectStoreError(store.read(moved), "corrupt");

    // Even with its name field rewritten, the ciphertext stays bound to the original secret.
    const stored = await readStored(other);
    await writeStored(other, { ...stored, name: secretName(PREFIX, other) });
    await expectStoreError(store.read(moved), "corrupt");
  });

  it("reports not_found for a missing file or version, and corrupt for a file that is not ours", async () => {
    const store = newStore();
    const organizationId = randomUUID();
    await expectStoreError(store.read({ ref: `local:${secretName(PREFIX, organizationId)}`, version: randomUUID() }), "not_found");
    const written = await store.writeBuildkiteToken(organizationId, newToken(), { requestToken: randomUUID() });
    await expectStoreError(store.read({ ref: written.ref, version: randomUUID() }), "not_found");
    await writeFile(secretFile(organizationId), "not json");
    await expectStoreError(store.read(written), "corrupt");
    await expectStoreError(store.read({ ref: "local:../../etc/passwd", version: written.version }), "corrupt");
  });

  it("generates the key file once with mode 0600 and reuses it", async () => {
    const organizationId = randomUUID();
    const written = await newStore().writeBuildkiteToken(organizationId, newToken(), { requestToken: randomUUID() });
    const key = await readFile(keyFile(), "utf8");
    expect(Buffer.from(key.trim(), "base64")).toHaveLength(32);
    expect(await mode(keyFile())).toBe(0o600);

    await newStore().writeBuildkiteToken(randomUUID(), newToken(), { requestToken: randomUUID() });
    expect(await readFile(keyFile(), "utf8")).toBe(key);
    await newStore().read(written);
  });

  it("agrees on one key when several stores start at once", async () => {
    const stores = Array.from({ length: 8 }, () => newStore());
    const organizationIds = stores.map(() => randomUUID());
    const tokens = stores.map(() => newToken());
    const refs = await Promise.all(stores.map((store, index) => store.writeBuildkiteToken(organizationIds[index]!, tokens[index]!, { requestToken: randomUUID() })));

    const reader = newStore();
    expect(await Promise.all(refs.map((ref) => reader.read(ref)))).toEqual(tokens);
    expect((await readdir(path.join(dataDir, "secrets"))).filter((name) => name.startsWith("encryption.key"))).toEqual(["encryption.key"]);
  });

  it("fails with misconfigured on a malformed key file and never overwrites it", async () => {
    await mkdir(path.join(dataDir, "secrets"), { recursive: true });
    await writeFile(keyFile(), "too-short\n");
    const token = newToken();

    const error = await expectStoreError(newStore().writeBuildkiteToken(randomUUID(), token, { requestToken: randomUUID() }), "misconfigured", token);
    expect(error.message).toContain("encryption.key");
    expect(await readFile(keyFile(), "utf8")).toBe("too-short\n");
  });

  it("uses a configured encryption key instead of a key file", async () => {
    const key = randomBytes(32);
    const written = await newStore(key).writeBuildkiteToken(randomUUID(), "bkua_configured", { requestToken: randomUUID() });
    expect(await newStore(key).read(written)).toBe("bkua_configured");
    await expect(stat(keyFile())).rejects.toThrow();
    await expectStoreError(newStore(randomBytes(32)).read(written), "corrupt");
  });

  it("returns the current version for a retried request token instead of writing another", async () => {
    const store = newStore();
    const organizationId = randomUUID();
    const token = newToken();
    const requestToken = randomUUID();
    const first = await store.writeBuildkiteToken(organizationId, token, { requestToken });
    const before = await readFile(secretFile(organizationId), "utf8");

    expect(await store.writeBuildkiteToken(organizationId, token, { requestToken })).toEqual(first);
    expect(await readFile(secretFile(organizationId), "utf8")).toBe(before);

    const other = newToken();
    await expectStoreError(store.writeBuildkiteToken(organizationId, other, { requestToken }), "misconfigured", other);
  });

  it("keeps the previous version readable after a new write", async () => {
    const store = newStore();
    const organizationId = randomUUID();
    const v1 = await store.writeBuildkiteToken(organizationId, "bkua_one", { requestToken: randomUUID() });
    const v2 = await store.writeBuildkiteToken(organizationId, "bkua_two", { requestToken: randomUUID() });
    const v3 = await store.writeBuildkiteToken(organizationId, "bkua_three", { requestToken: randomUUID() });

    expect(await store.read(v3)).toBe("bkua_three");
    expect(await store.read(v2)).toBe("bkua_two");
    await expectStoreError(store.read(v1), "not_found");
  });

  it("rolls back to the previous version, idempotently", async () => {
    const store = newStore();
    const organizationId = randomUUID();
    const previous = await store.writeBuildkiteToken(organizationId, "bkua_old", { requestToken: randomUUID() });
    const written = await store.writeBuildkiteToken(organizationId, "bkua_new", { requestToken: randomUUID() });

    await store.rollback(organizationId, written, previous);
    await store.rollback(organizationId, written, previous);

    const stored = await readStored(organizationId);
    expect(stored.current.id).toBe(previous.version);
    expect(stored.previous).toBeNull();
    expect(await store.read(previous)).toBe("bkua_old");
    await expectStoreError(store.read(written), "not_found");
  });

  it("rolls back a first write by deleting the file, idempotently", async () => {
    const store = newStore();
    const organizationId = randomUUID();
    const written = await store.writeBuildkiteToken(organizationId, newToken(), { requestToken: randomUUID() });

    await store.rollback(organizationId, written, null);
    await store.rollback(organizationId, written, null);

    await expect(stat(secretFile(organizationId))).rejects.toThrow();
    await expectStoreError(store.read(written), "not_found");
  });

  it("leaves a newer write alone when rolling back an older one", async () => {
    const store = newStore();
    const organizationId = randomUUID();
    const written = await store.writeBuildkiteToken(organizationId, "bkua_mine", { requestToken: randomUUID() });
    const newer = await store.writeBuildkiteToken(organizationId, "bkua_newer", { requestToken: randomUUID() });

    await store.rollback(organizationId, written, null);

    expect(await store.read(newer)).toBe("bkua_newer");
  });

  it("refuses organisation ids that could leave the prefix, without echoing them", async () => {
    const store = newStore();
    for (const organizationId of ["../escape", "a/b", "", ".", "bkua_secret value"]) {
      const attempt = store.writeBuildkiteToken(organizationId, newToken(), { requestToken: randomUUID() });
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
    await store.writeBuildkiteToken(organizationId, newToken(), { requestToken: randomUUID() });
    await writeFile(secretFile(organizationId), "{ damaged");

    const written = await store.writeBuildkiteToken(organizationId, "bkua_fresh", { requestToken: randomUUID() });

    expect(await store.read(written)).toBe("bkua_fresh");
    const siblings = await readdir(path.dirname(secretFile(organizationId)));
    expect(siblings.some((name) => name.includes(".corrupt-"))).toBe(true);
  });
});

describe("abandonWrite", () => {
  it("undoes the attempt made with that request token, and only that one", async () => {
    const store = newStore(randomBytes(32));
    const organizationId = randomUUID();
    const first = await store.writeBuildkiteToken(organizationId, "bkua_first_token_value", { requestToken: randomUUID() });
    const attempt = randomUUID();
    await store.writeBuildkiteToken(organizationId, "bkua_second_token_value", { requestToken: attempt });

    await store.abandonWrite(organizationId, randomUUID(), first);
    await store.abandonWrite(organizationId, attempt, first);
    // The first version is current again: a new write keeps it as the previous one, still readable by its id.
    const third = await store.writeBuildkiteToken(organizationId, "bkua_third_token_value", { requestToken: randomUUID() });
    expect(await store.read(first)).toBe("bkua_first_token_value");
    expect(await store.read(third)).toBe("bkua_third_token_value");

    const lone = randomUUID();
    const other = randomUUID();
    await store.writeBuildkiteToken(other, "bkua_lone_token_value", { requestToken: lone });
    await store.abandonWrite(other, lone, null);
    await expect(stat(secretFile(other))).rejects.toMatchObject({ code: "ENOENT" });
  });
});
