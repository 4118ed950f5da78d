import "server-only";

import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
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

export async function readOrCreateKeyFile(keyFile: string): Promise<Buffer> {
  try {
    return parseKeyFile(await readFile(keyFile, "utf8"), keyFile);
  } catch (error) {
    if (errnoCode(error) !== "ENOENT") throw error instanceof SecretStoreError ? error : fsError("read the encryption key", error);
  }
  const published = await fsStep("write the encryption key", () =>
    createFileOnce(keyFile, `${randomBytes(32).toString("base64")}\n`),
  );
  return parseKeyFile(published, keyFile);
}
