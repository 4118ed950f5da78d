import "server-only";

import { createCipheriv, createDecipheriv, createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { link, mkdir, open, readFile, rename, rm } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { assertOrganizationId, assertPrefix, assertWriteInput, secretName, SecretStoreError, type SecretRef, type SecretStore } from "./store";

export type LocalSecretStoreOptions = {
  dataDir: string;
  prefix: string;
  /** 32 bytes. Without it the key lives in `${dataDir}/secrets/encryption.key`, generated on first use. */
  encryptionKey?: Buffer | undefined;
};

const FORMAT = "gitar-local-secret/v1";
const REF_PREFIX = "local:";
const IV_BYTES = 12;
const TAG_BYTES = 16;

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/);
const versionSchema = z.object({
  id: z.uuid(),
  createdAt: z.iso.datetime(),
  requestToken: z.string(),
  iv: base64,
  tag: base64,
  ciphertext: base64,
});
const secretFileSchema = z.object({
  format: z.literal(FORMAT),
  name: z.string(),
  // Like AWSCURRENT / AWSPREVIOUS: the previous version stays readable until the next write replaces it.
  current: versionSchema,
  previous: versionSchema.nullable(),
});
type StoredVersion = z.infer<typeof versionSchema>;
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
    key ??= readOrCreateKeyFile(secretsDir, keyFile).catch((error: unknown) => {
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

  return {
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
  };
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

function additionalData(name: string, versionId: string): Buffer {
  // Binds each ciphertext to its secret and version: copied to another organisation's file, it no longer decrypts.
  return Buffer.from(`${FORMAT}\n${name}\n${versionId}`, "utf8");
}

function encrypt(secretKey: Buffer, name: string, token: string, requestToken: string): StoredVersion {
  const id = randomUUID();
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", secretKey, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(additionalData(name, id));
  const ciphertext = Buffer.concat([cipher.update(token, "utf8"), cipher.final()]);
  return {
    id,
    createdAt: new Date().toISOString(),
    requestToken,
    iv: iv.toString("base64"),
    tag: cipher.getAuthTag().toString("base64"),
    ciphertext: ciphertext.toString("base64"),
  };
}

function decrypt(secretKey: Buffer, name: string, version: StoredVersion): string {
  const corrupt = () =>
    new SecretStoreError(
      "corrupt",
      "A stored secret could not be decrypted: the file was altered or copied from another secret, or the encryption key changed",
    );
  const iv = Buffer.from(version.iv, "base64");
  const tag = Buffer.from(version.tag, "base64");
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw corrupt();
  try {
    const decipher = createDecipheriv("aes-256-gcm", secretKey, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(additionalData(name, version.id));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(Buffer.from(version.ciphertext, "base64")), decipher.final()]).toString("utf8");
  } catch {
    throw corrupt();
  }
}

function sameSecret(a: string, b: string): boolean {
  const digest = (value: string) => createHash("sha256").update(value, "utf8").digest();
  return timingSafeEqual(digest(a), digest(b));
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

/** Temp file + rename, so a crash or a concurrent reader never sees half a file. */
async function writeFileAtomically(file: string, content: string): Promise<void> {
  await fsStep("create the secrets directory", () => mkdir(path.dirname(file), { recursive: true, mode: 0o700 }));
  const temporary = `${file}.${randomUUID()}.tmp`;
  await fsStep("write a secret file", async () => {
    const handle = await open(temporary, "wx", 0o600);
    try {
      await handle.writeFile(content, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
  });
  try {
    await fsStep("replace a secret file", () => rename(temporary, file));
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

const keyFormat = /^[A-Za-z0-9+/]+={0,2}$/;

function parseKeyFile(text: string, keyFile: string): Buffer {
  const trimmed = text.trim();
  const decoded = Buffer.from(trimmed, "base64");
  if (!keyFormat.test(trimmed) || decoded.length !== 32) {
    // Never replaced automatically: a new key would make every stored secret unreadable.
    throw new SecretStoreError(
      "misconfigured",
      `${keyFile} is not 32 bytes of base64. It is never overwritten: restore the original key, or delete the file only if no stored secret needs it`,
    );
  }
  return decoded;
}

async function readOrCreateKeyFile(secretsDir: string, keyFile: string): Promise<Buffer> {
  await fsStep("create the secrets directory", () => mkdir(secretsDir, { recursive: true, mode: 0o700 }));
  try {
    return parseKeyFile(await readFile(keyFile, "utf8"), keyFile);
  } catch (error) {
    if (errnoCode(error) !== "ENOENT") throw error instanceof SecretStoreError ? error : fsError("read the encryption key", error);
  }

  const fresh = randomBytes(32);
  const temporary = `${keyFile}.${randomUUID()}.tmp`;
  await fsStep("write the encryption key", async () => {
    const handle = await open(temporary, "wx", 0o600);
    try {
      await handle.writeFile(`${fresh.toString("base64")}\n`, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
  });
  try {
    // link() publishes the complete file or fails with EEXIST: two processes starting together agree on one key,
    // and neither ever reads a half-written one.
    await link(temporary, keyFile);
    return fresh;
  } catch (error) {
    if (errnoCode(error) === "EEXIST") return parseKeyFile(await readFile(keyFile, "utf8"), keyFile);
    throw fsError("write the encryption key", error);
  } finally {
    await rm(temporary, { force: true });
  }
}

const fileLocks = new Map<string, Promise<void>>();

/** Serialises read-modify-write of one secret file within this process. */
async function withFileLock<T>(file: string, work: () => Promise<T>): Promise<T> {
  const prior = fileLocks.get(file) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((resolve) => (release = resolve));
  const tail = prior.then(() => mine);
  fileLocks.set(file, tail);
  await prior;
  try {
    return await work();
  } finally {
    release();
    if (fileLocks.get(file) === tail) fileLocks.delete(file);
  }
}

function errnoCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

function fsError(action: string, error: unknown): SecretStoreError {
  if (error instanceof SecretStoreError) return error;
  const code = errnoCode(error) ?? "unknown error";
  const misconfigured = ["EACCES", "EPERM", "EROFS", "ENOTDIR", "EISDIR"].includes(code);
  return new SecretStoreError(
    misconfigured ? "misconfigured" : "unavailable",
    `The local secret store could not ${action} (${code})${misconfigured ? ": check DATA_DIR exists and the server may write to it" : ""}`,
    { retryable: false },
  );
}

async function fsStep<T>(action: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    throw fsError(action, error);
  }
}
