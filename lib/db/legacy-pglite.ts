// No "server-only" guard: the start script and the test harnesses (plain Node) run this; it holds no secrets.
import { access, mkdir, rename } from "node:fs/promises";
import path from "node:path";

/**
 * The first embedded database was PGlite, in `$DATA_DIR/pglite`. Its data is demo data and PostgreSQL cannot read
 * it, so it is set aside rather than converted, together with the local secret store (its encrypted tokens belong
 * to the connections recorded there), and a fresh database is created. The auth secret and the instance lock stay.
 */
export async function setAsideLegacyPglite(dataDir: string, clusterDir: string, log: (line: string) => void) {
  const legacy = path.join(dataDir, "pglite");
  if (!(await exists(legacy))) return;
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  const target = path.join(dataDir, "set-aside", `pglite-${stamp}`);
  await mkdir(target, { recursive: true, mode: 0o700 });
  await rename(legacy, path.join(target, "pglite"));
  // With a PostgreSQL cluster already beside it, the secrets are that cluster's.
  const secrets = path.join(dataDir, "secrets");
  if ((await exists(secrets)) && !(await exists(clusterDir))) await rename(secrets, path.join(target, "secrets"));
  log(`▸ set aside the previous embedded database (PGlite) and its secrets in ${shown(target)}; creating a fresh database`);
}

const exists = (file: string) => access(file).then(() => true, () => false);

function shown(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith("..") || path.isAbsolute(relative) ? file : relative;
}
