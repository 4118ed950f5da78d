// No "server-only" guard: prisma/seed.ts and the members:add script (plain Node) use this.
import { randomBytes } from "node:crypto";
import type { Database } from "../db/client";

type Transaction = Parameters<Parameters<Database["$transaction"]>[0]>[0];

/**
 * A slug no organisation has, for a demo organisation that must make way: a real organisation always keeps (or
 * gets) the plain slug. Demo organisations are found by their `demo` flag and name, never by slug, so moving one
 * breaks nothing.
 */
export async function freeDemoSlug(tx: Transaction | Database, base: string): Promise<string> {
  const candidates = [`${base}-demo`, ...Array.from({ length: 5 }, () => `${base}-demo-${randomBytes(3).toString("hex")}`)];
  for (const candidate of candidates) {
    if (!(await tx.organization.findUnique({ where: { slug: candidate }, select: { id: true } }))) return candidate;
  }
  throw new Error(`No free slug for a demo organisation near "${base}"`);
}
