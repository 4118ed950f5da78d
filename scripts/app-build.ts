// Builds the app (`next build`) and records a hash of everything the build read beside it, so `npm start` rebuilds
// only when the sources changed. `npm run build` runs the same build ahead of time, for deployments that ship
// without development dependencies (the build needs TypeScript; serving it does not).
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";

const INPUTS = ["app", "components", "lib", "public", "prisma/schema.prisma", "proxy.ts", "next.config.ts", "tsconfig.json", "package-lock.json"];
const FINGERPRINT_FILE = ".next/source-fingerprint";

async function* files(target: string): AsyncGenerator<string> {
  if (!existsSync(target)) return;
  const entries = await readdir(target, { withFileTypes: true }).catch(() => null);
  if (!entries) {
    yield target;
    return;
  }
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    yield* files(path.join(target, entry.name));
  }
}

export async function sourceFingerprint(root: string): Promise<string> {
  const hash = createHash("sha256");
  for (const input of INPUTS) {
    for await (const file of files(path.join(root, input))) {
      hash.update(path.relative(root, file)).update("\0").update(await readFile(file)).update("\0");
    }
  }
  return hash.digest("hex");
}

export async function buildIsCurrent(root: string): Promise<boolean> {
  if (!existsSync(path.join(root, ".next/BUILD_ID"))) return false;
  const recorded = await readFile(path.join(root, FINGERPRINT_FILE), "utf8").catch(() => "");
  return recorded === (await sourceFingerprint(root));
}

async function recordBuild(root: string): Promise<void> {
  await writeFile(path.join(root, FINGERPRINT_FILE), await sourceFingerprint(root));
}

/** Runs `next build` in the production environment; true when it succeeded and was recorded. */
export async function buildApp(root: string): Promise<boolean> {
  const build = spawnSync(process.execPath, [path.join(root, "node_modules/next/dist/bin/next"), "build"], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: process.env.NEXT_TELEMETRY_DISABLED ?? "1" },
  });
  if (build.status !== 0) return false;
  await recordBuild(root);
  return true;
}
