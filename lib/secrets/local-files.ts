import "server-only";

import { mkdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { syncDirectory, temporaryBeside, writeNewPrivateFile } from "@/lib/runtime/private-files";
import { SecretStoreError } from "./store";

// File-system steps of the local secret store, each failing as a SecretStoreError that says what to check.

/** Temp file + rename, so a crash or a concurrent reader never sees half a file. */
export async function writeFileAtomically(file: string, content: string): Promise<void> {
  await fsStep("create the secrets directory", () => mkdir(path.dirname(file), { recursive: true, mode: 0o700 }));
  const temporary = temporaryBeside(file);
  await fsStep("write a secret file", () => writeNewPrivateFile(temporary, content));
  try {
    await fsStep("replace a secret file", () => rename(temporary, file));
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  await fsStep("flush the secrets directory", () => syncDirectory(path.dirname(file)));
}

/** Moves a file and flushes both directories, so the move survives a crash as a whole (the name is in one place). */
export async function moveDurably(from: string, to: string): Promise<void> {
  await rename(from, to);
  await syncDirectory(path.dirname(to));
  if (path.dirname(from) !== path.dirname(to)) await syncDirectory(path.dirname(from));
}

/** Removes a file and flushes its directory. */
export async function removeDurably(file: string): Promise<void> {
  await rm(file, { force: true });
  await syncDirectory(path.dirname(file));
}

const fileLocks = new Map<string, Promise<void>>();

/** Serialises read-modify-write of one secret file within this process. */
export async function withFileLock<T>(file: string, work: () => Promise<T>): Promise<T> {
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

export function errnoCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

export function fsError(action: string, error: unknown): SecretStoreError {
  if (error instanceof SecretStoreError) return error;
  const code = errnoCode(error) ?? "unknown error";
  const misconfigured = ["EACCES", "EPERM", "EROFS", "ENOTDIR", "EISDIR"].includes(code);
  return new SecretStoreError(
    misconfigured ? "misconfigured" : "unavailable",
    `The local secret store could not ${action} (${code})${misconfigured ? ": check DATA_DIR exists and the server may write to it" : ""}`,
    { retryable: false },
  );
}

export async function fsStep<T>(action: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    throw fsError(action, error);
  }
}
