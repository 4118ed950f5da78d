import "server-only";

import { readFile, rename, rm } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { decrypt, encrypt, FORMAT, sameSecret, versionSchema } from "./local-cipher";
import { errnoCode, fsError, fsStep, withFileLock, writeFileAtomically } from "./local-files";
import { readOrCreateKeyFile } from "./local-key";
import { assertOrganizationId, assertPrefix, assertWriteInput, secretName, SecretStoreError, type SecretRef, type SecretStore } from "./store";

export type LocalSecretStoreOptions = {
  dataDir: string;
  prefix: string;
  /** 32 bytes. Without it the key lives in `${dataDir}/secrets/encryption.key`, generated on first use. */
  encryptionKey?: Buffer | undefined;
};

const REF_PREFIX = "local:";

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
  const keyFile = path.join(secretsDir, "encryption.key");
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

  const store: SecretStore = {
    backend: "local",

    async writeBuildkiteToken(organizationId, token, { requestToken }) {
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
          await fsStep("set aside a damaged secret file", () => rename(file, `${file}.corrupt-${Date.now()}`));
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

    async read(ref) {
      const name = nameFromRef(ref);
      const secretKey = await loadKey();
      const stored = await readSecretFile(fileFor(name), name);
      const version = [stored?.current, stored?.previous].find((candidate) => candidate?.id === ref.version);
      if (!version) throw new SecretStoreError("not_found", "The local secret store has no such secret version");
      return decrypt(secretKey, name, version);
    },

    async rollback(organizationId, written, previous) {
      assertOrganizationId(organizationId);
      const name = secretName(prefix, organizationId);
      if (written.ref !== REF_PREFIX + name) {
        throw new TypeError("rollback was given a secret reference that does not belong to this organization");
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
        await fsStep("remove a secret file", () => rm(file, { force: true }));
      });
    },

    async abandonWrite(organizationId, requestToken, previous) {
      const name = secretName(prefix, organizationId);
      const stored = await readSecretFile(fileFor(name), name).catch(() => null);
      if (!stored || stored.current.requestToken !== requestToken) return;
      await store.rollback(organizationId, { ref: REF_PREFIX + name, version: stored.current.id }, previous);
    },
  };
  return store;
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

