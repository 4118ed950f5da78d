// Next bundles server code once per layer (pages and server actions; route handlers), so one class can exist twice
// in one process. The Buildkite client is shared between layers (it lives on globalThis), so an error made by one
// copy of a class is checked with `instanceof` against the other. That check must still hold.
import { afterEach, expect, it, vi } from "vitest";

afterEach(() => vi.resetModules());

async function twoCopiesOf<T>(load: () => Promise<T>): Promise<[T, T]> {
  const first = await load();
  vi.resetModules();
  const second = await load();
  return [first, second];
}

it("a BuildkiteError made by another copy of the class is still a BuildkiteError, and nothing else is", async () => {
  const [made, checking] = await twoCopiesOf(() => import("@/lib/buildkite/errors"));
  expect(made.BuildkiteError).not.toBe(checking.BuildkiteError);

  expect(new made.BuildkiteError("unauthorized", "Buildkite rejected the token")).toBeInstanceOf(checking.BuildkiteError);
  expect(new Error("other")).not.toBeInstanceOf(checking.BuildkiteError);
  expect(Object.assign(new Error("look-alike"), { name: "BuildkiteError", code: "unauthorized" })).not.toBeInstanceOf(checking.BuildkiteError);
});

it("a SecretStoreError made by another copy of the class is still a SecretStoreError", async () => {
  const [made, checking] = await twoCopiesOf(() => import("@/lib/secrets/store"));
  expect(made.SecretStoreError).not.toBe(checking.SecretStoreError);

  expect(new made.SecretStoreError("timeout", "slow")).toBeInstanceOf(checking.SecretStoreError);
  expect(new Error("other")).not.toBeInstanceOf(checking.SecretStoreError);
});
