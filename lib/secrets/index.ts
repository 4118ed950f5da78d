import "server-only";

import { getConfig, type AppConfig } from "@/lib/config";
import { createAwsSecretStore } from "./aws";
import { createLocalSecretStore } from "./local";
import type { SecretStore } from "./store";

export { SecretStoreError, secretName, type SecretRef, type SecretStore, type SecretStoreErrorCode } from "./store";

export function createSecretStore(config: AppConfig["secrets"], dataDir: string): SecretStore {
  switch (config.backend) {
    case "aws":
      return createAwsSecretStore({
        prefix: config.prefix,
        kmsKeyId: config.kmsKeyId,
        timeoutMs: config.timeoutMs,
        recoveryDays: config.recoveryDays,
      });
    case "local":
      return createLocalSecretStore({
        dataDir,
        prefix: config.prefix,
        encryptionKey: config.encryptionKey,
        recoveryDays: config.recoveryDays,
      });
  }
}

let store: SecretStore | undefined;

/** The process-wide store: one SDK client (and its connection pool) or one local key, shared by every request. */
export function getSecretStore(): SecretStore {
  if (!store) {
    const config = getConfig();
    store = createSecretStore(config.secrets, config.dataDir);
  }
  return store;
}
