// Small helpers every bench shares: statistics, the machine's state, and one way to print a figure.
import { cpus, freemem, loadavg, totalmem } from "node:os";

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export const median = (values: readonly number[]) => percentile(values, 50);

export const round = (value: number, digits = 1) => Number(value.toFixed(digits));

/** What the machine was doing: these figures are only comparable as ratios within one run. */
export function machine() {
  const [one, five] = loadavg();
  return {
    cpus: `${cpus().length} × ${cpus()[0]?.model.trim() ?? "unknown"}`,
    memory: `${round(totalmem() / 2 ** 30)} GiB (${round(freemem() / 2 ** 30)} GiB free)`,
    load: `${one!.toFixed(2)} (1 min), ${five!.toFixed(2)} (5 min)`,
    node: process.version,
    date: new Date().toISOString(),
  };
}

export function heading(title: string) {
  console.log(`\n== ${title} ==`);
  const state = machine();
  console.log(`   load ${state.load}; ${state.cpus}; ${state.memory}; ${state.date}`);
}

/** One line per figure: name, value, and the target it is held against. */
export function figure(name: string, value: string, verdict?: { ok: boolean; target: string }) {
  const mark = verdict ? (verdict.ok ? "✓" : "✗") : " ";
  console.log(` ${mark} ${name.padEnd(58)} ${value}${verdict ? `   (target ${verdict.target})` : ""}`);
}

export async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await work();
  return { ms: performance.now() - started, value };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
