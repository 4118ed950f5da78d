// No "server-only" guard: the start script and the test harnesses (plain Node) run this; it holds no secrets.
import { createHash, randomBytes } from "node:crypto";
import { access, chmod, cp, mkdir, readFile, realpath, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { PostgresBinaries } from "./postgres-binaries";
import { blockingDirectory, serverCanReach, type ServerUser } from "./server-user";

/**
 * Run as root, the embedded server runs as the OS user `postgres`, which must reach both its binaries (inside
 * node_modules) and its cluster (inside DATA_DIR). A checkout under a private home such as /root (mode 0700) allows
 * neither, and a newcomer who ran `npm install && npm start` there has done nothing wrong. So, only in that case,
 * both move to a root-owned place the server's user can reach, said out loud at start:
 *   /var/lib/gitar/postgres-<version>/   the binaries, copied once per package version;
 *   /var/lib/gitar/clusters/<id>/        the cluster of one data directory (id: a hash of its real path).
 * Everything else (password, log, secrets, the instance lock) stays in DATA_DIR, which only root needs to read.
 */

const SHARED = "/var/lib/gitar";

/** Where the cluster of `dataDir` lives: `dataDir` itself when the server's user can reach it. */
export async function clusterHome(dataDir: string, user: ServerUser, log: (line: string) => void): Promise<string> {
  if (!user || serverCanReach(dataDir, user)) return dataDir;
  const id = createHash("sha256").update(await realpath(dataDir)).digest("hex").slice(0, 16);
  const home = path.join(SHARED, "clusters", id);
  await reachableDirectory(home);
  await writeFile(path.join(home, "data-dir"), `${await realpath(dataDir)}\n`, { mode: 0o644 });
  log(
    `▸ the OS user ${user.name} cannot enter ${await blockingDirectory(dataDir, user)}, so the embedded PostgreSQL keeps ` +
      `its cluster for ${dataDir} in ${home} (set DATA_DIR to a directory it can reach to keep it there instead)`,
  );
  return home;
}

/** Binaries the server's user can run: the package's own, or a copy of them outside the checkout. */
export async function reachableBinaries(binaries: PostgresBinaries, user: ServerUser): Promise<PostgresBinaries> {
  if (!user || serverCanReach(binaries.postgres, user)) return binaries;
  // native/bin/postgres: the whole `native` tree goes (the binaries find lib/ and share/ beside bin/).
  const native = path.dirname(path.dirname(binaries.postgres));
  const version = await packageVersion(native);
  const target = path.join(SHARED, `postgres-${version}`);
  if (!(await exists(path.join(target, ".complete")))) {
    await reachableDirectory(SHARED);
    // Copied beside, then renamed into place: a start killed half-way never leaves half a copy in use.
    const partial = `${target}.partial-${randomBytes(4).toString("hex")}`;
    try {
      await cp(native, partial, { recursive: true, verbatimSymlinks: true });
      await writeFile(path.join(partial, ".complete"), `${version}\n`);
      await rm(target, { recursive: true, force: true });
      await rename(partial, target);
    } finally {
      await rm(partial, { recursive: true, force: true });
    }
  }
  const moved = (binary: string) => path.join(target, path.relative(native, binary));
  return { initdb: moved(binaries.initdb), postgres: moved(binaries.postgres) };
}

/** Created if missing, root-owned, and passable by everyone (0711 on the way, 0755 at the end). */
async function reachableDirectory(directory: string) {
  await mkdir(directory, { recursive: true, mode: 0o755 });
  for (let dir = directory; dir.startsWith(SHARED); dir = path.dirname(dir)) {
    await chmod(dir, dir === directory ? 0o755 : 0o711);
    if (dir === SHARED) break;
  }
}

async function packageVersion(native: string): Promise<string> {
  const manifest = JSON.parse(await readFile(path.join(path.dirname(native), "package.json"), "utf8")) as { version?: string };
  return (manifest.version ?? "unknown").replace(/[^A-Za-z0-9.-]/g, "_");
}

const exists = (file: string) => access(file).then(() => true, () => false);
