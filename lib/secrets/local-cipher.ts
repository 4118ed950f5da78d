import "server-only";

import { createCipheriv, createDecipheriv, createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { SecretStoreError } from "./store";

// AES-256-GCM for the local secret store: a fresh 12-byte IV per write, and the secret's name and version id as
// additional authenticated data.

export const FORMAT = "gitar-local-secret/v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/);
export const versionSchema = z.object({
  id: z.uuid(),
  createdAt: z.iso.datetime(),
  requestToken: z.string(),
  iv: base64,
  tag: base64,
  ciphertext: base64,
});
export type StoredVersion = z.infer<typeof versionSchema>;

function additionalData(name: string, versionId: string): Buffer {
  // Binds each ciphertext to its secret and version: copied to another organisation's file, it no longer decrypts.
  return Buffer.from(`${FORMAT}\n${name}\n${versionId}`, "utf8");
}

export function encrypt(secretKey: Buffer, name: string, token: string, requestToken: string): StoredVersion {
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

export function decrypt(secretKey: Buffer, name: string, version: StoredVersion): string {
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

/** Compares without revealing, through timing, how much of a token matched. */
export function sameSecret(a: string, b: string): boolean {
  const digest = (value: string) => createHash("sha256").update(value, "utf8").digest();
  return timingSafeEqual(digest(a), digest(b));
}

