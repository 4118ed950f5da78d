// No "server-only" guard: the start script and the test harnesses (plain Node) run this; it holds no secrets.
import { open, readFile, rename, stat } from "node:fs/promises";

const ROTATE_AT_BYTES = 10 * 1024 * 1024;

/**
 * PostgreSQL's own output goes to a file, not the console: it is noise while things work, and the evidence when
 * they do not. Opened by us (owner-only) and handed to the server as its stdout/stderr, so the server's user needs
 * no right to the data directory's files. One earlier generation is kept beside it.
 */
export async function openServerLog(file: string, heading: string): Promise<{ fd: number; offset: number; close(): Promise<void> }> {
  const size = await stat(file).then((info) => info.size, () => 0);
  if (size > ROTATE_AT_BYTES) await rename(file, `${file}.1`);
  const handle = await open(file, "a", 0o600);
  await handle.write(`\n--- ${new Date().toISOString()} ${heading}\n`);
  const offset = (await handle.stat()).size;
  return { fd: handle.fd, offset, close: () => handle.close() };
}

/** The last lines written since `offset`: what the error message shows when the server would not start. */
export async function logTail(file: string, offset: number, lines = 20): Promise<string> {
  const text = await readFile(file).then((content) => content.subarray(offset).toString("utf8"), () => "");
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}
