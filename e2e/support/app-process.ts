// Starting and stopping the app the way `npm start` does (scripts/start.ts: production build, next start), for the
// global setup's instance and for tests that need a second one beside it.
import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import path from "node:path";
import { stopProcessGroup, waitUntilAnswering } from "../../tests/support/app-server-process";

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
    // The first run builds the app, which takes a minute or two on a small machine.
    await waitUntilAnswering(app, url, { timeoutMs: 300_000, logFile });
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, stop };
}
