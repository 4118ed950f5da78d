// The embedded PostgreSQL that `npm start` runs when DATABASE_URL is unset: a real server, started and stopped the
// way the start script does, in temporary data directories.
import { spawn } from "node:child_process";
import { access, chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createConnection } from "node:net";
import { networkInterfaces, tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "@/lib/db/embedded-postgres";
import { isProcessRunning } from "@/lib/runtime/instance-lock";

const root = path.resolve(import.meta.dirname, "../..");
const asRoot = process.getuid?.() === 0;

let scratch: string;
const started: EmbeddedPostgres[] = [];

beforeAll(async () => {
  // Under the system temp directory. mkdtemp makes it 0700: as root, open it to passing through (not listing), since
  // the server runs as `postgres` and must reach the data directories inside.
  scratch = await mkdtemp(path.join(tmpdir(), "gitar-embedded-test-"));
  if (asRoot) await chmod(scratch, 0o711);
});

afterAll(async () => {
  await Promise.all(started.map((server) => server.stop()));
  await rm(scratch, { recursive: true, force: true });
});

async function start(dataDir: string, log?: (line: string) => void): Promise<EmbeddedPostgres> {
  const server = await startEmbeddedPostgres({ dataDir, log });
  started.push(server);
  return server;
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const serverPid = async (server: EmbeddedPostgres) =>
  Number((await readFile(path.join(server.clusterDir, "postmaster.pid"), "utf8")).split("\n")[0]);

/** Resolves true when something accepts a TCP connection on host:port, false when it is refused or unreachable. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port, timeout: 2_000 });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

describe("embedded PostgreSQL", () => {
  let dataDir: string;
  let server: EmbeddedPostgres;

  beforeAll(async () => {
    dataDir = path.join(scratch, "main", ".data");
    server = await start(dataDir);
  });

  it("is PostgreSQL 18 on a password-protected URL", async () => {
    expect(server.version).toBe("18");
    const url = new URL(server.url);
    expect(url.hostname).toBe("127.0.0.1");
    expect(url.password.length).toBeGreaterThan(20);
    const version = await withClient(server.url, async (client) => (await client.query("SHOW server_version")).rows[0]);
    expect(version.server_version).toMatch(/^18\./);
  });

  it("serves several connections at once", async () => {
    const clients = Array.from({ length: 6 }, () => new pg.Client({ connectionString: server.url }));
    await Promise.all(clients.map((client) => client.connect()));
    try {
      const began = Date.now();
      const pids = await Promise.all(
        clients.map(async (client) => (await client.query("SELECT pg_backend_pid() AS pid, pg_sleep(0.3)")).rows[0].pid),
      );
      // Six sessions of 0.3 s each, side by side: one shared session would take 1.8 s.
      expect(Date.now() - began).toBeLessThan(1_500);
      expect(new Set(pids).size).toBe(6);
    } finally {
      await Promise.all(clients.map((client) => client.end()));
    }
  });

  it("delivers LISTEN/NOTIFY between sessions", async () => {
    const listener = new pg.Client({ connectionString: server.url });
    await listener.connect();
    try {
      const received = new Promise<pg.Notification>((resolve) => listener.once("notification", resolve));
      await listener.query("LISTEN jobs");
      await withClient(server.url, (client) => client.query("SELECT pg_notify('jobs', 'hello')"));
      const notification = await received;
      expect(notification.channel).toBe("jobs");
      expect(notification.payload).toBe("hello");
    } finally {
      await listener.end();
    }
  });

  it("refuses a wrong password", async () => {
    const url = new URL(server.url);
    url.password = "not-the-password";
    await expect(withClient(url.toString(), (client) => client.query("SELECT 1"))).rejects.toMatchObject({ code: "28P01" });
  });

  it("listens on 127.0.0.1 only, and on no unix socket", async () => {
    expect(await accepts("127.0.0.1", server.port)).toBe(true);
    const otherAddresses = Object.values(networkInterfaces())
      .flat()
      .filter((address) => address !== undefined && address.address !== "127.0.0.1")
      .map((address) => address!.address);
    for (const address of new Set(["::1", ...otherAddresses])) {
      expect(await accepts(address, server.port), `reachable on ${address}`).toBe(false);
    }

    const settings = await withClient(server.url, async (client) => ({
      listen: (await client.query("SHOW listen_addresses")).rows[0].listen_addresses,
      sockets: (await client.query("SHOW unix_socket_directories")).rows[0].unix_socket_directories,
    }));
    expect(settings).toEqual({ listen: "127.0.0.1", sockets: "" });
    const socketName = `.s.PGSQL.${server.port}`;
    for (const directory of ["/tmp", "/var/run/postgresql", server.clusterDir, dataDir]) {
      expect(await access(path.join(directory, socketName)).then(() => true, () => false), directory).toBe(false);
    }
  });

  it("keeps its password owner-only, and the data directory closed to listing", async () => {
    expect((await stat(path.join(dataDir, "postgres-password"))).mode & 0o777).toBe(0o600);
    expect((await stat(path.join(dataDir, "postgres.log"))).mode & 0o777).toBe(0o600);
    // As root the server runs as `postgres` and must pass through; otherwise nobody else needs to.
    expect((await stat(dataDir)).mode & 0o777).toBe(asRoot ? 0o711 : 0o700);
    expect((await stat(server.clusterDir)).mode & 0o777).toBe(0o700);
  });

  it("keeps what was written across a stop and a start, and leaves no server behind", async () => {
    await withClient(server.url, async (client) => {
      await client.query("CREATE TABLE kept (value text)");
      await client.query("INSERT INTO kept VALUES ('across restarts')");
    });
    const pid = await serverPid(server);
    await server.stop();
    expect(isProcessRunning(pid)).toBe(false);
    await expect(access(path.join(server.clusterDir, "postmaster.pid"))).rejects.toThrow();

    server = await start(dataDir);
    const rows = await withClient(server.url, async (client) => (await client.query("SELECT value FROM kept")).rows);
    expect(rows).toEqual([{ value: "across restarts" }]);
  });

  it("refuses a second start on the same data directory while the first runs", async () => {
    const other = spawnStarter(dataDir);
    const result = await other.done;
    expect(result.code).not.toBe(0);
    expect(result.output).toContain(`is already using ${dataDir}`);
    // The first one's server is untouched.
    await expect(withClient(server.url, (client) => client.query("SELECT 1"))).resolves.toBeDefined();
  });
});

describe("embedded PostgreSQL after a kill -9 of the process that started it", () => {
  it("stops the orphaned server, keeps its data, and starts its own", async () => {
    const dataDir = path.join(scratch, "orphan", ".data");
    const starter = spawnStarter(dataDir, { hold: true });
    const { url } = await starter.ready;
    await withClient(url, async (client) => {
      await client.query("CREATE TABLE survived (value text)");
      await client.query("INSERT INTO survived VALUES ('written before the kill')");
    });
    const orphanPid = Number((await readFile(path.join(dataDir, "postgres", "postmaster.pid"), "utf8")).split("\n")[0]);

    starter.child.kill("SIGKILL");
    await starter.done;
    // The server lives on without its parent, as after `kill -9` of npm start.
    expect(isProcessRunning(orphanPid)).toBe(true);
    await expect(withClient(url, (client) => client.query("SELECT 1"))).resolves.toBeDefined();

    const lines: string[] = [];
    const server = await start(dataDir, (line) => lines.push(line));
    expect(lines).toContainEqual(expect.stringContaining(`stopping the PostgreSQL server (pid ${orphanPid})`));
    expect(isProcessRunning(orphanPid)).toBe(false);
    expect(await serverPid(server)).not.toBe(orphanPid);
    const rows = await withClient(server.url, async (client) => (await client.query("SELECT value FROM survived")).rows);
    expect(rows).toEqual([{ value: "written before the kill" }]);
  });
});

describe("embedded PostgreSQL on a data directory left by the PGlite version", () => {
  it("sets the PGlite data and its secrets aside, keeps the auth secret and lock, and creates a fresh cluster", async () => {
    const dataDir = path.join(scratch, "legacy", ".data");
    await mkdir(path.dirname(dataDir), { mode: 0o755 });
    // As the PGlite version made it: owner-only.
    await mkdir(path.join(dataDir, "pglite", "base"), { recursive: true, mode: 0o700 });
    await writeFile(path.join(dataDir, "pglite", "PG_VERSION"), "17\n");
    await mkdir(path.join(dataDir, "secrets"), { mode: 0o700 });
    await writeFile(path.join(dataDir, "secrets", "encryption.key"), "old-key\n", { mode: 0o600 });
    await writeFile(path.join(dataDir, "auth-secret"), "kept-auth-secret\n", { mode: 0o600 });

    const lines: string[] = [];
    const server = await start(dataDir, (line) => lines.push(line));

    expect(lines.filter((line) => line.includes("set aside"))).toHaveLength(1);
    expect(lines.join("\n")).toMatch(/set aside .*set-aside\/pglite-\d{8}T\d{6}Z.*fresh database/);
    const [setAside] = await readdir(path.join(dataDir, "set-aside"));
    expect(setAside).toMatch(/^pglite-\d{8}T\d{6}Z$/);
    const moved = path.join(dataDir, "set-aside", setAside!);
    expect((await readdir(moved)).sort()).toEqual(["pglite", "secrets"]);
    expect(await readFile(path.join(moved, "secrets", "encryption.key"), "utf8")).toBe("old-key\n");
    expect((await stat(path.join(dataDir, "set-aside"))).mode & 0o777).toBe(0o700);
    expect(await readFile(path.join(dataDir, "auth-secret"), "utf8")).toBe("kept-auth-secret\n");
    expect(await readFile(path.join(dataDir, "instance.pid"), "utf8")).toBe(`${process.pid}\n`);
    await expect(access(path.join(dataDir, "pglite"))).rejects.toThrow();

    const tables = await withClient(server.url, async (client) =>
      (await client.query("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'")).rows[0].n,
    );
    expect(tables).toBe(0);
  });
});

/**
 * Starts the embedded server from another Node process, as `npm start` does: `hold` keeps it running (to be
 * killed), otherwise it exits once started or failed.
 */
function spawnStarter(dataDir: string, options: { hold?: boolean } = {}) {
  const script = [
    `import { startEmbeddedPostgres } from ${JSON.stringify(path.join(root, "lib/db/embedded-postgres.ts"))};`,
    `const server = await startEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir)} });`,
    `console.log("READY " + JSON.stringify({ url: server.url }));`,
    options.hold ? "setInterval(() => {}, 1 << 30);" : "await server.stop();",
  ].join("\n");
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let onReady: (value: { url: string }) => void;
  const ready = new Promise<{ url: string }>((resolve) => (onReady = resolve));
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    const line = /^READY (.*)$/m.exec(output);
    if (line) onReady(JSON.parse(line[1]!));
  };
  child.stdout.on("data", collect);
  child.stderr.on("data", collect);
  const done = new Promise<{ code: number | null; output: string }>((resolve) =>
    child.once("exit", (code) => resolve({ code, output })),
  );
  const readyOrFailed = Promise.race([ready, done.then(() => Promise.reject(new Error(output)))]);
  readyOrFailed.catch(() => {}); // awaited only by callers that expect a start
  return { child, ready: readyOrFailed, done };
}

describe.runIf(asRoot)("embedded PostgreSQL, run as root, in a data directory the postgres user cannot enter", () => {
  it("keeps its cluster in a place the postgres user can reach, says where, and finds it again on the next start", async () => {
    // A private home, like /root: mode 0700, so the OS user postgres cannot pass through it.
    const privateHome = await mkdtemp(path.join(scratch, "private-home-"));
    await chmod(privateHome, 0o700);
    const dataDir = path.join(privateHome, ".data");
    const said: string[] = [];

    const first = await start(dataDir, (line) => said.push(line));
    await withClient(first.url, (client) => client.query("CREATE TABLE kept (value text); INSERT INTO kept VALUES ('still here')"));
    await first.stop();
    const second = await start(dataDir, (line) => said.push(line));

    expect(second.clusterDir).toBe(first.clusterDir);
    expect(first.clusterDir.startsWith("/var/lib/gitar/clusters/")).toBe(true);
    expect(said.some((line) => line.includes("cannot enter") && line.includes(first.clusterDir.replace(/\/postgres$/, "")))).toBe(true);
    expect(await withClient(second.url, (client) => client.query("SELECT value FROM kept"))).toMatchObject({ rows: [{ value: "still here" }] });
    // What only root needs stays in the data directory.
    await expect(stat(path.join(dataDir, "postgres-password"))).resolves.toBeDefined();
    await second.stop();
    await rm(path.dirname(first.clusterDir), { recursive: true, force: true });
  });
});
