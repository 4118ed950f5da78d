import "server-only";

import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import path from "node:path";
import type { AppConfig } from "@/lib/config";
import { readOrCreateKeyFile } from "@/lib/secrets/local-key";

/**
 * Webhook signing secrets at rest. Unlike a Buildkite token, the server must read a signing secret back to sign
 * every delivery, so it cannot be hashed; it is encrypted with AES-256-GCM under a key derived (HKDF-SHA256) from
 * the local secret store's key — SECRETS_ENCRYPTION_KEY, or the key generated into $DATA_DIR/secrets/encryption.key.
 * One key to back up, already required wherever instances share a database with the local store; with the AWS
 * backend and several instances, set SECRETS_ENCRYPTION_KEY on each (see the README). Why not one Secrets Manager
 * secret per endpoint: a signing secret only lets someone forge our notifications to the receiver that holds it, and
 * is rolled in a click, so a paid secret and a network call per delivery buy little. Each ciphertext is bound to its
 * endpoint (additional data), so a ciphertext copied to another endpoint's row does not decrypt.
 */

const FORMAT = "v1";

export type SecretBox = {
  seal(endpointId: string, secret: string): Promise<string>;
  /** null when it cannot be decrypted (the key changed, or the row was altered). */
  open(endpointId: string, sealed: string): Promise<string | null>;
};

export function createSecretBox(source: () => Promise<Buffer>): SecretBox {
  let key: Promise<Buffer> | undefined;
  const derived = () =>
    (key ??= source().then((material) => Buffer.from(hkdfSync("sha256", material, Buffer.alloc(0), "gitar webhook signing secrets v1", 32))));
  const aad = (endpointId: string) => Buffer.from(`gitar-webhook-secret/${FORMAT}\n${endpointId}`, "utf8");
  return {
    async seal(endpointId, secret) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", await derived(), iv);
      cipher.setAAD(aad(endpointId));
      const ciphertext = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
      return [FORMAT, iv.toString("base64"), cipher.getAuthTag().toString("base64"), ciphertext.toString("base64")].join(".");
    },
    async open(endpointId, sealed) {
      const [format, iv, tag, ciphertext] = sealed.split(".");
      if (format !== FORMAT || !iv || !tag || !ciphertext) return null;
      try {
        const decipher = createDecipheriv("aes-256-gcm", await derived(), Buffer.from(iv, "base64"));
        decipher.setAAD(aad(endpointId));
        decipher.setAuthTag(Buffer.from(tag, "base64"));
        return Buffer.concat([decipher.update(Buffer.from(ciphertext, "base64")), decipher.final()]).toString("utf8");
      } catch {
        return null;
      }
    },
  };
}

/** The box on this deployment's key: the same one the local secret store uses. */
export function secretBoxFor(config: Pick<AppConfig, "secrets" | "dataDir">): SecretBox {
  const configured = config.secrets.encryptionKey;
  return createSecretBox(async () => configured ?? (await readOrCreateKeyFile(path.join(config.dataDir, "secrets", "encryption.key"))));
}
