import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readOrCreateSecretFile } from "@/lib/runtime/generated-secret";
import { createFileOnce, ensureDataDir } from "@/lib/runtime/private-files";
import { assertPortFree, findFreePort, lockDataDir } from "@/lib/runtime/instance-lock";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "gitar-lock-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe("createFileOnce", () => {
  it("lets exactly one of many concurrent writers win, and every caller sees the winner's content", async () => {
    const file = path.join(dir, "nested", "key");
    const results = await Promise.all(Array.from({ length: 20 }, (_, index) => createFileOnce(file, `writer-${index}`)));
    const stored = await readFile(file, "utf8");
    expect(new Set(results)).toEqual(new Set([stored]));
    expect(stored).toMatch(/^writer-\d+$/);
  });

  it("keeps an existing file and generated secrets stay the same across calls", async () => {
    const first = await readOrCreateSecretFile(dir, "auth-secret");
    expect(Buffer.from(first, "base64")).toHaveLength(32);
    expect(await readOrCreateSecretFile(dir, "auth-secret")).toBe(first);
  });
});

describe("ensureDataDir", () => {
  const asRoot = process.getuid?.() === 0;
  const modeOf = async (file: string) => (await stat(file)).mode & 0o777;

  it("creates the directory and its missing parents owner-only, or passable (0711) as root, whatever the umask", async () => {
    const dataDir = path.join(dir, "a", "b", ".data");
    const previous = process.umask(0o077);
    try {
      await ensureDataDir(dataDir);
    } finally {
      process.umask(previous);
    }
    const expected = asRoot ? 0o711 : 0o700;
    for (const created of [path.join(dir, "a"), path.join(dir, "a", "b"), dataDir]) {
      expect(await modeOf(created), created).toBe(expected);
    }
  });

  it("makes an existing owner-only data directory passable (as root only) and leaves what is inside alone", async () => {
    const dataDir = path.join(dir, ".data");
    await mkdir(path.join(dataDir, "secrets"), { recursive: true, mode: 0o700 });
    const key = await readOrCreateSecretFile(dataDir, "auth-secret");
    await ensureDataDir(dataDir);
    expect(await modeOf(dataDir)).toBe(asRoot ? 0o711 : 0o700);
    expect(await modeOf(path.join(dataDir, "secrets"))).toBe(0o700);
    expect(await modeOf(path.join(dataDir, "auth-secret"))).toBe(0o600);
    expect(await readOrCreateSecretFile(dataDir, "auth-secret")).toBe(key);
  });
});

describe("lockDataDir", () => {
  it("refuses a second instance on the same data directory until the first lets go", async () => {
    const release = await lockDataDir(dir);
    await writeFile(path.join(dir, "instance.pid"), `${process.ppid}\n`);
    await expect(lockDataDir(dir)).rejects.toThrow(`Another instance (pid ${process.ppid}) is already using ${dir}`);
    await release();
    const again = await lockDataDir(dir);
    expect((await readFile(path.join(dir, "instance.pid"), "utf8")).trim()).toBe(String(process.pid));
    await again();
  });

  it("takes over a lock left by a process that no longer exists", async () => {
    await writeFile(path.join(dir, "instance.pid"), "2147483646\n");
    const release = await lockDataDir(dir);
    expect((await readFile(path.join(dir, "instance.pid"), "utf8")).trim()).toBe(String(process.pid));
    await release();
  });
});

describe("findFreePort", () => {
  it("names a port that can be listened on", async () => {
    const port = await findFreePort("127.0.0.1");
    expect(port).toBeGreaterThan(0);
    await expect(assertPortFree(port, "127.0.0.1")).resolves.toBeUndefined();
  });
});

describe("assertPortFree", () => {
  it("names the busy port and how to choose another", async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    await expect(assertPortFree(port, "127.0.0.1")).rejects.toThrow(`Port ${port} is already in use on 127.0.0.1`);
    await new Promise((resolve) => server.close(resolve));
    await expect(assertPortFree(port, "127.0.0.1")).resolves.toBeUndefined();
  });
});
