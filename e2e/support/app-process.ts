// Starting and stopping the app the way `npm start` does (scripts/start.ts: production build, next start), for the
// global setup's instance and for tests that need a second one beside it.
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");

export type AppProcess = { url: string; stop: () => Promise<void> };

export async function startApp(env: NodeJS.ProcessEnv, logFile: string): Promise<AppProcess> {
  const url = `http://127.0.0.1:${env.PORT}`;
  const log = createWriteStream(logFile);
  const app = spawn(process.execPath, ["--conditions=react-server", "--import", "tsx", "scripts/start.ts"], {
    cwd: root,
    env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  app.stdout!.pipe(log);
  app.stderr!.pipe(log);
  const stop = async () => {
    await stopProcessGroup(app);
    log.end();
  };
  try {
    await waitForApp(app, url, logFile);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, stop };
}

async function waitForApp(app: ChildProcess, url: string, logFile: string) {
  // The first run builds the app, which takes a minute or two on a small machine.
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    if (app.exitCode !== null) throw new Error(`The app exited with code ${app.exitCode}; see ${logFile}`);
    try {
      const response = await fetch(`${url}/sign-in`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`The app did not start within 5 minutes; see ${logFile}`);
}

async function stopProcessGroup(child: ChildProcess) {
  if (child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  process.kill(-child.pid, "SIGTERM");
  const timer = setTimeout(() => child.pid && process.kill(-child.pid, "SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}
