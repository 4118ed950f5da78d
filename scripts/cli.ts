// What every command-line entry point (start, worker) does first: read the configuration, or stop with a message.
import { ConfigError, getConfig, type AppConfig } from "../lib/config";

export function fail(message: string): never {
  console.error(`\n✖ ${message}\n`);
  process.exit(1);
}

/** The configuration, or an exit naming every bad variable. */
export function configOrExit(): AppConfig {
  try {
    return getConfig();
  } catch (error) {
    if (error instanceof ConfigError) fail(`${error.message}\nSee .env.example for every variable and its default.`);
    throw error;
  }
}
