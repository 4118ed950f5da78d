// No "server-only" guard: the start script and the test harnesses (plain Node) run this; it holds no secrets.
import { execFileSync } from "node:child_process";
import { readFile, readlink, realpath, rm } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { isProcessRunning } from "../runtime/instance-lock";

/**
 * A start killed with kill -9 leaves its PostgreSQL server running, orphaned, with the cluster's postmaster.pid
 * naming it. The next start (which holds the instance lock, so no live instance owns that server) stops it and
 * clears the file, then starts its own.
 */
export async function takeOverCluster(clusterDir: string, log: (line: string) => void): Promise<void> {
  const pidFile = path.join(clusterDir, "postmaster.pid");
  const content = await readFile(pidFile, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return null;
    throw error;
  });
  if (content === null) return;
  const pid = Number(content.split("\n")[0]);
  if (isProcessRunning(pid)) {
    const ours = await isServerFor(pid, clusterDir);
    if (ours === undefined) {
      throw new Error(
        `${pidFile} names process ${pid}, which is running, and this machine does not say what it is. If it is a ` +
          `PostgreSQL server left by an earlier start, stop it (kill -INT ${pid}), then start again.`,
      );
    }
    if (ours) {
      log(`▸ stopping the PostgreSQL server (pid ${pid}) that an earlier start left running`);
      await stopServer(pid);
    }
  }
  // Nothing runs this cluster now. A file naming a zombie (PID 1, an orphan's new parent, may reap it late) or a
  // pid since reused would make PostgreSQL refuse to start, so it goes.
  await rm(pidFile, { force: true });
}

/** Fast shutdown (SIGINT) first; SIGQUIT and SIGKILL only when the server does not finish in time. */
export async function stopServer(pid: number, hasExited: () => boolean = () => !isProcessRunning(pid)): Promise<void> {
  const steps: Array<[NodeJS.Signals, number]> = [
    ["SIGINT", 15_000],
    ["SIGQUIT", 5_000],
    ["SIGKILL", 5_000],
  ];
  for (const [signal, waitMs] of steps) {
    if (hasExited()) return;
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
    const deadline = Date.now() + waitMs;
    while (!hasExited() && Date.now() < deadline) await sleep(50);
  }
  if (!hasExited()) throw new Error(`The PostgreSQL server (pid ${pid}) did not stop, even on SIGKILL.`);
}

/** true/false when the system says what `pid` runs; undefined when it cannot tell. */
async function isServerFor(pid: number, clusterDir: string): Promise<boolean | undefined> {
  const wanted = new Set([path.resolve(clusterDir), await realpath(clusterDir).catch(() => path.resolve(clusterDir))]);
  const args = await commandLine(pid);
  if (args === undefined) return undefined;
  const dataDirFlag = args.indexOf("-D");
  const dataDir = dataDirFlag >= 0 ? args[dataDirFlag + 1] : undefined;
  if (path.basename(args[0] ?? "") === "postgres" && dataDir !== undefined && wanted.has(path.resolve(dataDir))) return true;
  // A server started some other way: it still works in its data directory.
  const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => undefined);
  return cwd !== undefined && wanted.has(cwd) && args.some((arg) => path.basename(arg) === "postgres");
}

async function commandLine(pid: number): Promise<string[] | undefined> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, "utf8")).split("\0").filter(Boolean);
  } catch {
    // No /proc (macOS): ask ps.
    try {
      const command = execFileSync("ps", ["-o", "command=", "-p", String(pid)], { encoding: "utf8", stdio: "pipe" });
      return command.trim() ? command.trim().split(/\s+/) : undefined;
    } catch {
      return undefined;
    }
  }
}
