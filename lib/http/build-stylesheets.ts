import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

/**
 * The production build's stylesheets, as Content-Security-Policy hash sources ('sha256-…').
 *
 * next.config.ts has Next inline the stylesheet into every page (`experimental.inlineCss`): the first paint then
 * waits for no second request, which is most of what stood between the pages and a perfect Lighthouse score
 * (docs/benchmarks.md, part 4). React writes it as a `<style>` element whose text is the file's content, byte for
 * byte, but without the request's nonce (Next gives React its nonce for scripts only). So the policy names each
 * stylesheet of the build by its hash: the app's own styles apply, and an injected `<style>` still does not.
 *
 * Read once per process from the build's output (`.next/static`, where `next start` serves it from); a process
 * without a build (tests, tools) gets none.
 */
export function buildStylesheetHashes(staticDir = path.join(process.cwd(), ".next", "static")): readonly string[] {
  const known = cached.get(staticDir);
  if (known) return known;
  const hashes = stylesheetsUnder(staticDir).map((file) => `'sha256-${createHash("sha256").update(readFileSync(file)).digest("base64")}'`);
  cached.set(staticDir, hashes);
  return hashes;
}

const cached = new Map<string, readonly string[]>();

function stylesheetsUnder(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile() && entry.name.endsWith(".css"))
      .map((entry) => path.join(entry.parentPath, entry.name))
      .sort();
  } catch {
    return [];
  }
}
