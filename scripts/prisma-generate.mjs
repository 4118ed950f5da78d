// Generates the Prisma client after `npm install`.
//
// Prisma's CLI downloads a native schema engine before `generate`, although generate never runs it. Where
// Prisma's binary host is out of reach (as on our CI machines) that download fails, so we point
// PRISMA_SCHEMA_ENGINE_BINARY at an existing file to skip it. A machine that already set the variable to a
// real engine keeps its own choice.
import { spawnSync } from "node:child_process";

const env = { ...process.env };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath;
env.PRISMA_HIDE_UPDATE_MESSAGE = "1";

const result = spawnSync("prisma", ["generate", "--schema", "prisma/schema.prisma"], {
  stdio: "inherit",
  env,
  shell: process.platform === "win32",
});
process.exit(result.status ?? 1);
