// `npm run build`: the production build ahead of time (see app-build.ts). `npm start` then serves it as it is.
import path from "node:path";
import { buildApp } from "./app-build";

const root = path.resolve(import.meta.dirname, "..");
if (!(await buildApp(root))) {
  console.error("✖ The build failed; see the output above.");
  process.exit(1);
}
console.log("▸ built; `npm start` will serve this build until the sources change");
