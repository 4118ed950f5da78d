import "server-only";

import { randomBytes } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { createFileOnce } from "@/lib/runtime/private-files";
import { errnoCode, fsError, fsStep } from "./local-files";
import { SecretStoreError } from "./store";

// The local store's key: SECRETS_ENCRYPTION_KEY, or 32 random bytes generated once into the secrets directory.

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

/** Secret files (live or set aside by a disconnect) anywhere under the secrets directory: each needs the old key. */
async function countSecretFiles(secretsDir: string): Promise<number> {
  try {
    const entries = await readdir(secretsDir, { withFileTypes: true, recursive: true });
    return entries.filter((entry) => entry.isFile() && entry.name.endsWith(".json")).length;
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return 0;
    throw fsError("look for stored secrets", error);
  }
}

/**
 * The key file beside the secrets, created on first use. A missing key file is only created while no secret exists:
 * once one does, a fresh key would make every stored token unreadable while the record still says "Connected", so the
 * store refuses to work until the original key is back.
 */
export async function readOrCreateKeyFile(keyFile: string): Promise<Buffer> {
  try {
    return parseKeyFile(await readFile(keyFile, "utf8"), keyFile);
  } catch (error) {
    if (errnoCode(error) !== "ENOENT") throw error instanceof SecretStoreError ? error : fsError("read the encryption key", error);
  }
  const stored = await countSecretFiles(path.dirname(keyFile));
  if (stored > 0) {
    throw new SecretStoreError(
      "misconfigured",
      `${keyFile} is missing, but ${stored} stored secret${stored === 1 ? " was" : "s were"} encrypted under it. ` +
        "Restore the original file from a backup (or set SECRETS_ENCRYPTION_KEY to the same key) and restart; " +
        "a new key is never generated while secrets need the old one",
    );
  }
  const published = await fsStep("write the encryption key", () =>
    createFileOnce(keyFile, `${randomBytes(32).toString("base64")}\n`),
  );
  return parseKeyFile(published, keyFile);
}
