// No "server-only" guard: the start script (plain Node) uses this before the app process exists.
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { createFileOnce } from "./private-files";

/**
 * A random secret generated once and kept in the data directory, so an embedded install needs no configuration and
 * keeps, for example, sessions valid across restarts.
 */
export async function readOrCreateSecretFile(dataDir: string, name: string, bytes = 32): Promise<string> {
  const file = path.join(dataDir, name);
  const existing = await readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return null;
    throw error;
  });
  const value = (existing ?? (await createFileOnce(file, `${randomBytes(bytes).toString("base64")}\n`))).trim();
  if (!value) throw new Error(`${file} is empty. Delete it to have a new one generated.`);
  return value;
}
