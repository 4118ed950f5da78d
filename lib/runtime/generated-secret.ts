// No "server-only" guard: the start script (plain Node) uses this before the app process exists, and the local
// secret store uses it for its key.
import { randomBytes, randomUUID } from "node:crypto";
import { link, mkdir, open, readFile, rm } from "node:fs/promises";
import path from "node:path";

/**
 * Creates `file` with `content` unless it exists, and returns what the file holds. The content goes to a temporary
 * file first and is published with link(), which either places the complete file or fails with EEXIST: two
 * processes starting at once agree on one file, and neither ever reads half of one. Owner-only permissions.
 */
export async function createFileOnce(file: string, content: string): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${randomUUID()}.tmp`;
  const handle = await open(temporary, "wx", 0o600);
  try {
    await handle.writeFile(content, "utf8");
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(temporary, file);
    return content;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return readFile(file, "utf8");
    throw error;
  } finally {
    await rm(temporary, { force: true });
  }
}

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
