// `npm run bench [-- part …]`: runs the benchmarks and prints each figure with its ratio. Parts: connect, page,
// lighthouse, verify, orgs (default: all, in that order). Never part of `npm test`. See docs/benchmarks.md.
import { benchConnect } from "./connect";
import { benchLighthouse } from "./lighthouse";
import { benchOrganizations } from "./orgs";
import { benchPage } from "./page";
import { benchVerify } from "./verify";
import { machine } from "./support/measure";

const PARTS = ["connect", "page", "lighthouse", "verify", "orgs"] as const;
type Part = (typeof PARTS)[number];

const requested = process.argv.slice(2).filter((arg) => !arg.startsWith("-"));
const unknown = requested.filter((arg) => !PARTS.includes(arg as Part));
if (unknown.length > 0) {
  console.error(`Unknown part(s): ${unknown.join(", ")}. Parts: ${PARTS.join(", ")}.`);
  process.exit(2);
}
const parts: Part[] = requested.length > 0 ? (requested as Part[]) : [...PARTS];

// The machine's own Postgres; each part makes (and drops) a database of its own on it.
const serverUrl = process.env.BENCH_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

console.log("Benchmarks: every figure is compared with another taken in the same run, on the same machine.");
console.log(machine());
for (const part of parts) {
  switch (part) {
    case "connect":
      await benchConnect(serverUrl);
      break;
    case "page":
      await benchPage(serverUrl);
      break;
    case "lighthouse":
      await benchLighthouse(serverUrl);
      break;
    case "verify":
      await benchVerify(serverUrl);
      break;
    case "orgs":
      await benchOrganizations(serverUrl);
      break;
  }
}
console.log("\nDone.", machine());
process.exit(0);
