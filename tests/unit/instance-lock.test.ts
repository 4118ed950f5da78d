import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readOrCreateSecretFile } from "@/lib/runtime/generated-secret";
import { createFileOnce } from "@/lib/runtime/private-files";
import { assertPortFree, lockDataDir } from "@/lib/runtime/instance-lock";

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
