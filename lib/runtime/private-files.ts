// No "server-only" guard: the start script (plain Node) uses these too. Files that hold keys or secrets.
import { randomUUID } from "node:crypto";
import { chmod, link, mkdir, open, readFile, rm, stat } from "node:fs/promises";
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

/**
 * Flushes a directory, so the names created, renamed or removed in it survive a power cut: a rename alone is atomic
 * but not durable until its directory reaches the disk.
 */
export async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, "r");
  try {
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
    await syncDirectory(path.dirname(file));
    return content;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return readFile(file, "utf8");
    throw error;
  } finally {
    await rm(temporary, { force: true });
  }
}

/**
 * Creates the data directory, and any parents it lacks, for their owner only. Running as root is the exception: the
 * embedded PostgreSQL server then runs as the OS user `postgres` (PostgreSQL refuses root) and has to pass through
 * the data directory to reach its cluster. So, as root, the directories made here, and an existing data directory,
 * are made traversable (0711: others may enter, not list). What is inside keeps its own mode: files 0600, the
 * secrets directory 0700.
 */
export async function ensureDataDir(dataDir: string): Promise<void> {
  const asRoot = process.getuid?.() === 0;
  const mode = asRoot ? 0o711 : 0o700;
  const firstCreated = await mkdir(dataDir, { recursive: true, mode });
  if (firstCreated) {
    // mkdir's mode passes through the umask; set it exactly, on each directory this call created.
    for (let directory = path.resolve(dataDir); ; directory = path.dirname(directory)) {
      await chmod(directory, mode);
      if (directory === path.resolve(firstCreated) || directory === path.dirname(directory)) break;
    }
  } else if (asRoot) {
    const current = (await stat(dataDir)).mode & 0o7777;
    if ((current & 0o001) === 0) await chmod(dataDir, current | 0o011);
  }
}
