// The parent's handle on bench/support/stand-ins-process.ts: start it, register tokens, set the latency, read counts.
import { fork, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import path from "node:path";
import { STAND_IN_CREDENTIALS } from "../../tests/support/secrets-manager-stand-in";

export type StandInCommand = { id: number } & (
  | { type: "register"; prefix: string; from: number; count: number; scenario: "good" | "rate_limited"; slug?: string }
  | { type: "latency"; ms: number }
  | { type: "counts" }
  | { type: "reset-log" }
  | { type: "stop" }
);

export type StandInCounts = {
  buildkite: {
    total: number;
    tokens: number;
    maxPerToken: number;
    minPerToken: number;
    byPath: Record<string, number>;
    /** Requests made with a token Buildkite answers 429 to. */
    rateLimited: number;
  };
  secretsManager: { total: number; byOperation: Record<string, number> };
};

/** A token that looks like a real one, the same for the same prefix and index in every process. */
export function benchToken(prefix: string, index: number): string {
  return `bkua_MTA.${createHash("sha256").update(`${prefix}:${index}`).digest("hex").slice(0, 34)}`;
}

export type StandInsProcess = {
  buildkiteUrl: string;
  secretsManagerUrl: string;
  region: string;
  /** The variables that point the AWS SDK (and so the app's aws backend) at the Secrets Manager stand-in. */
  awsEnv: Record<string, string>;
  /** Tokens benchToken(prefix, from … from+count-1); each reaches its own organisation, or `slug` when given. */
  register(prefix: string, from: number, count: number, scenario?: "good" | "rate_limited", slug?: string): Promise<void>;
  setLatency(ms: number): Promise<void>;
  counts(): Promise<StandInCounts>;
  resetLog(): Promise<void>;
  stop(): Promise<void>;
};

export async function startStandInsProcess(options: { enforceRateLimits?: boolean } = {}): Promise<StandInsProcess> {
  const child: ChildProcess = fork(path.join(import.meta.dirname, "stand-ins-process.ts"), options.enforceRateLimits ? ["--enforce-rate-limits"] : [], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  const pending = new Map<number, (value: unknown) => void>();
  let nextId = 1;
  const ready = new Promise<{ buildkiteUrl: string; secretsManagerUrl: string; region: string }>((resolve, reject) => {
    pending.set(0, resolve as (value: unknown) => void);
    child.once("exit", (code) => reject(new Error(`the stand-ins process exited (${code})`)));
  });
  child.on("message", (message: { id: number; value: unknown }) => {
    pending.get(message.id)?.(message.value);
    pending.delete(message.id);
  });
  type Command = StandInCommand extends infer C ? (C extends { id: number } ? Omit<C, "id"> : never) : never;
  const ask = <T>(command: Command) =>
    new Promise<T>((resolve) => {
      const id = nextId++;
      pending.set(id, resolve as (value: unknown) => void);
      child.send({ ...command, id });
    });
  const urls = await ready;
  return {
    ...urls,
    awsEnv: {
      AWS_REGION: urls.region,
      AWS_ACCESS_KEY_ID: STAND_IN_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: STAND_IN_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: urls.secretsManagerUrl,
    },
    register: (prefix, from, count, scenario = "good", slug) => ask({ type: "register", prefix, from, count, scenario, ...(slug ? { slug } : {}) }),
    setLatency: (ms) => ask({ type: "latency", ms }),
    counts: () => ask<StandInCounts>({ type: "counts" }),
    resetLog: () => ask({ type: "reset-log" }),
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.send({ type: "stop", id: nextId++ });
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
    },
  };
}
