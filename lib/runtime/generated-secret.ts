// No "server-only" guard: only the start script (plain Node) uses this, before the app process exists.
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";

/**
 * A random secret generated once and kept in the data directory (owner-only), so an embedded install needs no
 * configuration and keeps sessions valid across restarts. Created exclusively: two processes starting at once
 * cannot end up with two different secrets.
 */
export async function readOrCreateSecretFile(dataDir: string, name: string, bytes = 32): Promise<string> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, name);
  try {
    await writeFile(file, randomBytes(bytes).toString("base64"), { flag: "wx", mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  const value = (await readFile(file, "utf8")).trim();
  if (!value) throw new Error(`${file} is empty. Delete it to have a new one generated.`);
  return value;
}
