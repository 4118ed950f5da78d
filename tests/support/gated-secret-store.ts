// A real secret store with gates a test can close, to force one interleaving of concurrent changes. It does not
// replace any behaviour: every call still goes to the real store; a gate only decides *when* a read proceeds.
import type { SecretRef, SecretStore } from "@/lib/secrets/store";

export type GatedSecretStore = {
  store: SecretStore;
  /** Resolves with the version once the store has written `token`. */
  written(token: string): Promise<SecretRef>;
  /** Holds reads of the version written for `token` until `release` resolves (a test's condition, or a timeout). */
  holdReadsOf(token: string, release: () => Promise<unknown>): void;
};

export function gateSecretStore(inner: SecretStore): GatedSecretStore {
  const tokenOfVersion = new Map<string, string>();
  const writeWaiters = new Map<string, { promise: Promise<SecretRef>; resolve: (ref: SecretRef) => void }>();
  const holds = new Map<string, () => Promise<unknown>>();

  const waiterFor = (token: string) => {
    let entry = writeWaiters.get(token);
    if (!entry) {
      let resolve!: (ref: SecretRef) => void;
      const promise = new Promise<SecretRef>((done) => (resolve = done));
      entry = { promise, resolve };
      writeWaiters.set(token, entry);
    }
    return entry;
  };

  // Every view of the store (an operation binds its deadline with withSignal) passes through the same gates.
  const gated = (inner: SecretStore): SecretStore => ({
    ...inner,
    backend: inner.backend,
    async write(organizationId, token, options) {
      const ref = await inner.write(organizationId, token, options);
      tokenOfVersion.set(ref.version, token);
      waiterFor(token).resolve(ref);
      return ref;
    },
    async read(organizationId, ref) {
      const token = tokenOfVersion.get(ref.version);
      const release = token ? holds.get(token) : undefined;
      if (release) await release();
      return inner.read(organizationId, ref);
    },
    withSignal: (signal) => gated(inner.withSignal(signal)),
  });
  const store = gated(inner);

  return {
    store,
    written: (token) => waiterFor(token).promise,
    holdReadsOf(token, release) {
      holds.set(token, release);
    },
  };
}
