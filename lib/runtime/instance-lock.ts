// No "server-only" guard: only the scripts and the embedded database (plain Node) use this.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import path from "node:path";
import { createFileOnce, ensureDataDir } from "./private-files";

/**
 * The embedded PostgreSQL keeps its cluster in the data directory, and only one instance may run it: a second one
 * would take the first one's server for an orphan and stop it. A lock file holds the owner's pid; a lock whose
 * process is gone (a crash, a kill -9) is taken over. The same process may take it again (`npm run members:add`
 * takes it, then the embedded database it starts does).
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  await ensureDataDir(dataDir);
  const file = path.join(dataDir, "instance.pid");
  for (let attempt = 0; attempt < 2; attempt++) {
    const owner = Number((await createFileOnce(file, `${process.pid}\n`)).trim());
    if (owner === process.pid) return () => rm(file, { force: true });
    if (isProcessRunning(owner)) {
      throw new Error(
        `Another instance (pid ${owner}) is already using ${dataDir}. Stop it first, or give this one its own DATA_DIR.`,
      );
    }
    // Stale: its process is gone. Remove the file only if it still names that process, then try again.
    if (Number((await readFile(file, "utf8").catch(() => "")).trim()) === owner) await rm(file, { force: true });
  }
  throw new Error(`Could not lock ${dataDir}; remove ${file} if no instance is running.`);
}

/**
 * Exists and has not exited. A zombie (exited, not yet reaped) has exited: a process killed with kill -9 stays one
 * for a while where its new parent, PID 1 of a container, reaps late or never.
 */
export function isProcessRunning(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  return !isZombie(pid);
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    // No /proc (macOS): ask ps.
    try {
      return execFileSync("ps", ["-o", "stat=", "-p", String(pid)], { encoding: "utf8", stdio: "pipe" }).trim().startsWith("Z");
    } catch {
      return false;
    }
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

/** A port that was free on `host` a moment ago: the kernel's pick for port 0. */
export function findFreePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, host, () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
