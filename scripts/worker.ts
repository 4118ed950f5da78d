// `npm run worker`: the job runner on its own (scheduled verification, the reconciler), for deployments that scale
// it apart from the web app. Run as many as you like against one database: they share the work, and no job runs
// twice. Set JOBS_IN_APP=false on the web app so `npm start` leaves the jobs to the workers.
import { migrate } from "../lib/db/migrate";
import { createJobContext } from "../lib/jobs/context";
import { startJobRunner } from "../lib/jobs/runner";
import { configOrExit, fail } from "./cli";

async function main() {
  const config = configOrExit();
  if (!config.databaseUrl) {
    fail("The worker needs DATABASE_URL. With the embedded database (no DATABASE_URL), `npm start` runs the jobs itself.");
  }
  // Whichever starts first, app or worker, brings the schema up to date (under Prisma's migration lock).
  const applied = await migrate(config.databaseUrl);
  if (applied.length > 0) console.log(`▸ applied migrations: ${applied.join(", ")}`);
  const context = createJobContext(config, config.databaseUrl);
  const runner = await startJobRunner({ databaseUrl: config.databaseUrl, context });
  console.log("▸ job runner started: scheduled Buildkite checks and the secret reconciler");

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await runner.stop();
    await context.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
