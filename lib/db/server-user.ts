// No "server-only" guard: the start script and the test harnesses (plain Node) run this; it holds no secrets.
import { execFileSync, spawnSync } from "node:child_process";
import { stat } from "node:fs/promises";
import path from "node:path";

/** Who the PostgreSQL server runs as: `undefined` is this process's own user. */
export type ServerUser = { name: string; uid: number; gid: number } | undefined;

const NAME = "postgres";

/**
 * PostgreSQL refuses to run as root. Running as root (containers, CI), the server runs as the OS user `postgres`,
 * created here as a system account when the machine has none.
 */
export function serverUser(): ServerUser {
  if (process.getuid?.() !== 0) return undefined;
  const existing = lookUp();
  if (existing) return existing;
  try {
    execFileSync("useradd", ["--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", NAME], {
      stdio: "pipe",
    });
  } catch (error) {
    const detail = (error as { stderr?: Buffer }).stderr?.toString().trim() || (error as Error).message;
    throw new Error(
      `Running as root, the embedded PostgreSQL needs an OS user named "${NAME}" to run as, and creating it failed ` +
        `(${detail}). Create that user, run \`npm start\` as another user, or set DATABASE_URL.`,
    );
  }
  const created = lookUp();
  if (!created) throw new Error(`The OS user "${NAME}" was created but cannot be found.`);
  return created;
}

function lookUp(): ServerUser {
  try {
    const id = (flag: string) => Number(execFileSync("id", [flag, NAME], { encoding: "utf8", stdio: "pipe" }).trim());
    return { name: NAME, uid: id("-u"), gid: id("-g") };
  } catch {
    return undefined;
  }
}

/** Whether the server's user can pass through every directory down to `target` (and enter it), as the system says. */
export function serverCanReach(target: string, user: NonNullable<ServerUser>): boolean {
  return spawnSync("test", ["-x", target], { uid: user.uid, gid: user.gid }).status === 0;
}

/** The first directory on the way to `target` that the server's user cannot enter, for messages. */
export async function blockingDirectory(target: string, user: NonNullable<ServerUser>): Promise<string> {
  const ancestors: string[] = [];
  for (let dir = path.resolve(target); ; dir = path.dirname(dir)) {
    ancestors.unshift(dir);
    if (dir === path.dirname(dir)) break;
  }
  const blocker = ancestors.find((dir) => !serverCanReach(dir, user)) ?? path.resolve(target);
  const info = await stat(blocker).catch(() => undefined);
  const detail = info ? ` (mode ${(info.mode & 0o7777).toString(8).padStart(4, "0")}, owner ${info.uid === 0 ? "root" : `uid ${info.uid}`})` : "";
  return `${blocker}${detail}`;
}
