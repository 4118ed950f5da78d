import "server-only";

import { mkdir, readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { decrypt, encrypt, FORMAT, sameSecret, versionSchema } from "./local-cipher";
import { errnoCode, fsError, fsStep, moveDurably, removeDurably, withFileLock, writeFileAtomically } from "./local-files";
import { readOrCreateKeyFile } from "./local-key";
import {
  assertOrganizationId,
  assertPrefix,
  deadlineReached,
  assertWriteInput,
  organizationOfSecretName,
  RECOVERY_DAYS,
  secretName,
  SecretStoreError,
  type SecretRef,
  type SecretStore,
  type StoredSecret,
} from "./store";

export type LocalSecretStoreOptions = {
  dataDir: string;
  prefix: string;
  /** 32 bytes. Without it the key lives in `${dataDir}/secrets/encryption.key`, generated on first use. */
  encryptionKey?: Buffer | undefined;
  /** Days a deleted secret is kept aside (in `secrets/.deleted/`) before `purgeDeleted` removes it. */
  recoveryDays?: number;
};

const REF_PREFIX = "local:";
const DAY_MS = 24 * 60 * 60 * 1000;
const SECRET_FILE = "buildkite-api-token.json";
// `<organisation id>@<epoch ms>.json`: what was deleted, and when, readable without opening the file.
const DELETED_FILE = /^([A-Za-z0-9][A-Za-z0-9_-]{0,127})@(\d{13})\.json$/;

const secretFileSchema = z.object({
  format: z.literal(FORMAT),
  name: z.string(),
  // Like AWSCURRENT / AWSPREVIOUS: the previous version stays readable until the next write replaces it.
  current: versionSchema,
  previous: versionSchema.nullable(),
});
type SecretFile = z.infer<typeof secretFileSchema>;

/**
 * Buildkite tokens encrypted with AES-256-GCM on the local disk, for deployments without AWS. One JSON file per
 * secret; the plaintext never touches the disk.
 */
export function createLocalSecretStore(options: LocalSecretStoreOptions): SecretStore {
  assertPrefix(options.prefix);
  const { prefix } = options;
  const secretsDir = path.join(path.resolve(options.dataDir), "secrets");
  const deletedDir = path.join(secretsDir, ".deleted");
  const keyFile = path.join(secretsDir, "encryption.key");
  const recoveryDays = options.recoveryDays ?? RECOVERY_DAYS.default;
  let key: Promise<Buffer> | undefined;

  function loadKey(): Promise<Buffer> {
    if (options.encryptionKey) {
      if (options.encryptionKey.length !== 32) {
        return Promise.reject(new SecretStoreError("misconfigured", "SECRETS_ENCRYPTION_KEY must be 32 bytes"));
      }
      return Promise.resolve(options.encryptionKey);
    }
    key ??= readOrCreateKeyFile(keyFile).catch((error: unknown) => {
      key = undefined;
      throw error;
    });
    return key;
  }

  function fileFor(name: string): string {
    const file = path.join(secretsDir, `${name}.json`);
    // Names are validated already; this is the last line of defence against leaving the secrets directory.
    if (path.relative(secretsDir, file).startsWith("..")) throw new SecretStoreError("corrupt", "Secret name escapes the secrets directory");
    return file;
  }

  /** Moves the newest set-aside copy of the secret that still holds `version` back into place. */
  async function bringBackDeleted(organizationId: string, name: string, version: string, file: string): Promise<boolean> {
    const candidates = (await entriesOf(deletedDir))
      .filter((entry) => DELETED_FILE.exec(entry)?.[1] === organizationId)
      .sort()
      .reverse();
    for (const entry of candidates) {
      const aside = path.join(deletedDir, entry);
      const stored = await readSecretFile(aside, name).catch(() => null);
      if (stored && (stored.current.id === version || stored.previous?.id === version)) {
        await fsStep("restore a deleted secret", () => mkdir(path.dirname(file), { recursive: true, mode: 0o700 }));
        await fsStep("restore a deleted secret", () => moveDurably(aside, file));
        return true;
      }
    }
    return false;
  }

  const store: SecretStore = {
    backend: "local",

    async write(organizationId, token, { requestToken }) {
      const name = secretName(prefix, organizationId);
      assertWriteInput(token, requestToken);
      const secretKey = await loadKey();
      const file = fileFor(name);

      return withFileLock(file, async () => {
        let existing: SecretFile | null;
        try {
          existing = await readSecretFile(file, name);
        } catch (error) {
          if (!(error instanceof SecretStoreError && error.code === "corrupt")) throw error;
          // A damaged file must not block reconnecting (the way to repair it); keep it aside for whoever investigates.
          await fsStep("set aside a damaged secret file", () => moveDurably(file, `${file}.corrupt-${Date.now()}`));
          existing = null;
        }

        if (existing && existing.current.requestToken === requestToken) {
          if (!sameSecret(decrypt(secretKey, name, existing.current), token)) {
            throw new SecretStoreError(
              "misconfigured",
              "This request token already stored a different value; make a new request token for each connect attempt",
            );
          }
          return { ref: REF_PREFIX + name, version: existing.current.id };
        }

        const version = encrypt(secretKey, name, token, requestToken);
        const next: SecretFile = { format: FORMAT, name, current: version, previous: existing?.current ?? null };
        await writeFileAtomically(file, `${JSON.stringify(next, null, 2)}\n`);
        return { ref: REF_PREFIX + name, version: version.id };
      });
    },

    async read(organizationId, ref) {
      const name = nameFromRef(ref);
      if (name !== secretName(prefix, organizationId)) {
        throw new SecretStoreError("misconfigured", "This secret reference is not this organization's secret");
      }
      const secretKey = await loadKey();
      const stored = await readSecretFile(fileFor(name), name);
      const version = [stored?.current, stored?.previous].find((candidate) => candidate?.id === ref.version);
      if (!version) throw new SecretStoreError("not_found", "The local secret store has no such secret version");
      return decrypt(secretKey, name, version);
    },

    async undoWrite(organizationId, written, previous) {
      assertOrganizationId(organizationId);
      const name = secretName(prefix, organizationId);
      if (written.ref !== REF_PREFIX + name) {
        throw new TypeError("undoWrite was given a secret reference that does not belong to this organization");
      }
      const file = fileFor(name);

      await withFileLock(file, async () => {
        const stored = await readSecretFile(file, name);
        // Only undo our own write: gone already, rolled back already, or superseded by a later connect.
        if (!stored || stored.current.id !== written.version) return;

        if (previous && previous.ref === written.ref && stored.previous?.id === previous.version) {
          const next: SecretFile = { ...stored, current: stored.previous, previous: null };
          await writeFileAtomically(file, `${JSON.stringify(next, null, 2)}\n`);
          return;
        }
        if (previous && previous.ref === written.ref) {
          throw new SecretStoreError("not_found", "The previous secret version is no longer in the local secret store");
        }
        await fsStep("remove a secret file", () => removeDurably(file));
      });
    },

    async abandonWrite(organizationId, requestToken, previous) {
      const name = secretName(prefix, organizationId);
      const stored = await readSecretFile(fileFor(name), name).catch(() => null);
      if (!stored || stored.current.requestToken !== requestToken) return;
      await store.undoWrite(organizationId, { ref: REF_PREFIX + name, version: stored.current.id }, previous);
    },

    async deleteSecret(organizationId, ref) {
      assertOrganizationId(organizationId);
      const name = secretName(prefix, organizationId);
      if (ref !== REF_PREFIX + name) throw new TypeError("deleteSecret was given a secret reference that does not belong to this organization");
      const file = fileFor(name);
      await withFileLock(file, async () => {
        await fsStep("create the deleted-secrets directory", () => mkdir(deletedDir, { recursive: true, mode: 0o700 }));
        try {
          await moveDurably(file, path.join(deletedDir, `${organizationId}@${Date.now()}.json`));
        } catch (error) {
          if (errnoCode(error) === "ENOENT") return;
          throw fsError("set a deleted secret aside", error);
        }
      });
    },

    async restoreCurrent(organizationId, recorded) {
      assertOrganizationId(organizationId);
      const name = secretName(prefix, organizationId);
      if (recorded.ref !== REF_PREFIX + name) {
        throw new SecretStoreError("misconfigured", "The record points at a secret this local store did not write; SECRETS_BACKEND or SECRETS_PREFIX was changed since");
      }
      const file = fileFor(name);
      return withFileLock(file, async () => {
        let restored = false;
        let stored = await readSecretFile(file, name);
        if (!stored) {
          // Deleted behind the record's back, and still set aside: bring it back.
          restored = await bringBackDeleted(organizationId, name, recorded.version, file);
          stored = restored ? await readSecretFile(file, name) : null;
        }
        if (stored?.current.id === recorded.version) return restored ? ("restored" as const) : ("current" as const);
        if (!stored || stored.previous?.id !== recorded.version) {
          throw new SecretStoreError("not_found", "The recorded secret version is no longer in the local secret store");
        }
        // The current version was never recorded (its writer died before committing): it goes.
        const next: SecretFile = { ...stored, current: stored.previous, previous: null };
        await writeFileAtomically(file, `${JSON.stringify(next, null, 2)}\n`);
        return "restored" as const;
      });
    },

    async list() {
      const root = path.join(secretsDir, ...prefix.split("/"));
      const found: StoredSecret[] = [];
      for (const organizationId of await entriesOf(root)) {
        const name = `${prefix}/${organizationId}/${SECRET_FILE.replace(/\.json$/, "")}`;
        if (organizationOfSecretName(prefix, name) !== organizationId) continue;
        if ((await entriesOf(path.join(root, organizationId))).includes(SECRET_FILE)) {
          found.push({ organizationId, ref: REF_PREFIX + name, deleted: false });
        }
      }
      return found;
    },

    async purgeDeleted(now = new Date()) {
      let purged = 0;
      for (const entry of await entriesOf(deletedDir)) {
        const deletedAt = Number(DELETED_FILE.exec(entry)?.[2]);
        if (!Number.isFinite(deletedAt) || now.getTime() - deletedAt < recoveryDays * DAY_MS) continue;
        await fsStep("purge a deleted secret", () => removeDurably(path.join(deletedDir, entry)));
        purged += 1;
      }
      return purged;
    },

    withSignal: (signal) => checkingSignal(store, signal),
  };
  return store;
}

async function entriesOf(directory: string): Promise<string[]> {
  try {
    return await readdir(directory);
  } catch (error) {
    // Missing, or a stray file where a directory would be: nothing of ours is in there.
    if (errnoCode(error) === "ENOENT" || errnoCode(error) === "ENOTDIR") return [];
    throw fsError("list the secrets directory", error);
  }
}

function nameFromRef(ref: SecretRef): string {
  if (ref.ref.startsWith("arn:")) {
    throw new SecretStoreError("misconfigured", "This secret reference was written by the AWS Secrets Manager backend, not the local one");
  }
  const name = ref.ref.startsWith(REF_PREFIX) ? ref.ref.slice(REF_PREFIX.length) : "";
  const safe = /^[A-Za-z0-9_+=.@-]+(\/[A-Za-z0-9_+=.@-]+)*$/.test(name) && !name.split("/").some((part) => part === "." || part === "..");
  if (!safe) throw new SecretStoreError("corrupt", "This local secret reference is malformed");
  return name;
}

async function readSecretFile(file: string, name: string): Promise<SecretFile | null> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return null;
    throw fsError("read a secret file", error);
  }
  let parsed: ReturnType<typeof secretFileSchema.safeParse>;
  try {
    parsed = secretFileSchema.safeParse(JSON.parse(text));
  } catch {
    throw new SecretStoreError("corrupt", "A stored secret file is not valid JSON");
  }
  if (!parsed.success) throw new SecretStoreError("corrupt", "A stored secret file is not in the expected format");
  if (parsed.data.name !== name) throw new SecretStoreError("corrupt", "A stored secret file belongs to a different secret");
  return parsed.data;
}

/**
 * File steps take milliseconds, so a deadline is honoured at the start of each call; a call under way finishes
 * (stopping between a file write and its rename would only leave a temporary file behind).
 */
function checkingSignal(store: SecretStore, signal: AbortSignal): SecretStore {
  const guard =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      if (signal.aborted) throw deadlineReached("the local secret store");
      return call(...args);
    };
  return {
    backend: store.backend,
    write: guard(store.write),
    read: guard(store.read),
    undoWrite: guard(store.undoWrite),
    abandonWrite: guard(store.abandonWrite),
    deleteSecret: guard(store.deleteSecret),
    restoreCurrent: guard(store.restoreCurrent),
    list: guard(store.list),
    purgeDeleted: guard(store.purgeDeleted),
    withSignal: (next) => checkingSignal(store, next),
  };
}
