// No "server-only" guard: only the start script (plain Node) uses this.
import { readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import path from "node:path";
import { createFileOnce } from "./private-files";

/**
 * The embedded Postgres keeps its files in the data directory, and two processes writing them would corrupt it:
 * only one instance may use a data directory. A lock file holds the owner's pid; a lock whose process is gone
 * (a crash, a kill -9) is taken over.
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const file = path.join(dataDir, "instance.pid");
  for (let attempt = 0; attempt < 2; attempt++) {
    const owner = Number((await createFileOnce(file, `${process.pid}\n`)).trim());
    if (owner === process.pid) return () => rm(file, { force: true });
    if (isRunning(owner)) {
      throw new Error(
        `Another instance (pid ${owner}) is already using ${dataDir}. Stop it first, or give this one its own DATA_DIR.`,
      );
    }
    // Stale: its process is gone. Remove the file only if it still names that process, then try again.
    if (Number((await readFile(file, "utf8").catch(() => "")).trim()) === owner) await rm(file, { force: true });
  }
  throw new Error(`Could not lock ${dataDir}; remove ${file} if no instance is running.`);
}

function isRunning(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Fails early, with words an admin can act on, when another program already listens on the port. */
export function assertPortFree(port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "EADDRINUSE"
          ? new Error(`Port ${port} is already in use on ${host}. Stop the program using it, or start with PORT=<another port>.`)
          : error,
      ),
    );
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}
