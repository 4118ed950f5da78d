// Waiting for a spawned app server to answer, and stopping it with everything it started: shared by the browser
// tests' instances (e2e/support/app-process.ts) and the benchmarks' (bench/support/app.ts). Relative imports only.
import type { ChildProcess } from "node:child_process";

/** Resolves once `url`/sign-in answers 200; rejects if the process exits first or `timeoutMs` passes. */
export async function waitUntilAnswering(app: ChildProcess, url: string, options: { timeoutMs: number; logFile: string }): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  while (Date.now() < deadline) {
    if (app.exitCode !== null) throw new Error(`The app exited with code ${app.exitCode}; see ${options.logFile}`);
    const answered = await fetch(`${url}/sign-in`).then(
      (response) => response.ok,
      () => false, // not listening yet
    );
    if (answered) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`The app did not answer within ${Math.round(options.timeoutMs / 1000)} s; see ${options.logFile}`);
}

/** SIGTERM to the process group (the server and what it spawned: Postgres, workers), SIGKILL after 10 s. The child
 *  must have been spawned `detached`, so that it leads a group of its own. */
export async function stopProcessGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  process.kill(-child.pid, "SIGTERM");
  const timer = setTimeout(() => child.pid && child.exitCode === null && process.kill(-child.pid, "SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}
