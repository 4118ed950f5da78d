import { randomUUID } from "node:crypto";
import type pg from "pg";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { createLockPool } from "@/lib/db/client";
import { createConnectionLocks, type ConnectionLocks } from "@/lib/integrations/buildkite/lock";

/**
 * The lock pool full of other organisations' changes is not "busy": a change waits for a connection as long as its
 * deadline allows (docs/benchmarks.md, part 6). Only its own organisation's lock answers "busy" after the lock wait.
 */

let pool: pg.Pool;
let locks: ConnectionLocks;
beforeAll(() => {
  pool = createLockPool(inject("databaseUrl"), { max: 1, waitMs: 200 });
  locks = createConnectionLocks(pool, { waitMs: 200 });
});
afterAll(async () => {
  await pool.end();
});

it("waits past the lock wait for a connection another organisation's change holds, within its deadline", async () => {
  const first = await locks.acquire(randomUUID(), { atMostMs: 5_000 });
  expect(first).not.toBeNull();
  let released = false;
  // Past the 200 ms lock wait.
  setTimeout(() => {
    released = true;
    void first!.release();
  }, 600);
  const second = await locks.acquire(randomUUID(), { atMostMs: 5_000 });
  expect(second).not.toBeNull();
  expect(released).toBe(true);
  await second!.release();
});

it("answers busy when the connection does not come free within the deadline", async () => {
  const first = await locks.acquire(randomUUID(), { atMostMs: 5_000 });
  const second = await locks.acquire(randomUUID(), { atMostMs: 300 });
  expect(second).toBeNull();
  await first!.release();
  // The pool is whole again: a connection that came free after the give-up went back to it.
  const third = await locks.acquire(randomUUID(), { atMostMs: 1_000 });
  expect(third).not.toBeNull();
  await third!.release();
});

it("without a deadline, waits for a connection only as long as the lock wait (as before)", async () => {
  const first = await locks.acquire(randomUUID());
  const second = await locks.acquire(randomUUID());
  expect(second).toBeNull();
  await first!.release();
});

it("still answers busy after the lock wait when its own organisation is busy, whatever the deadline", async () => {
  const organizationId = randomUUID();
  const wide = createLockPool(inject("databaseUrl"), { max: 2, waitMs: 200 });
  const wideLocks = createConnectionLocks(wide, { waitMs: 200 });
  try {
    const holder = await wideLocks.acquire(organizationId, { atMostMs: 5_000 });
    const waiter = await wideLocks.acquire(organizationId, { atMostMs: 5_000 });
    expect(waiter).toBeNull();
    await holder!.release();
  } finally {
    await wide.end();
  }
});
