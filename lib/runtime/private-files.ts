// No "server-only" guard: the start script (plain Node) uses these too. Files that hold keys or secrets.
import { randomUUID } from "node:crypto";
import { link, mkdir, open, readFile, rm } from "node:fs/promises";
import path from "node:path";

/** Writes a new file readable by its owner only, and flushes it to disk before returning. Fails if it exists. */
export async function writeNewPrivateFile(file: string, content: string): Promise<void> {
  const handle = await open(file, "wx", 0o600);
  try {
    await handle.writeFile(content, "utf8");
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** A unique name beside `file` for a temporary file that will replace or become it. */
export const temporaryBeside = (file: string) => `${file}.${randomUUID()}.tmp`;

/**
 * Creates `file` with `content` unless it exists, and returns what the file holds. The content goes to a temporary
 * file first and is published with link(), which either places the complete file or fails with EEXIST: two
 * processes starting at once agree on one file, and neither ever reads half of one.
 */
export async function createFileOnce(file: string, content: string): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = temporaryBeside(file);
  await writeNewPrivateFile(temporary, content);
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
