import pg from "pg";
import { afterAll, describe, expect, inject, it } from "vitest";
import { migrate, readMigrations } from "@/lib/db/migrate";

describe("migrations", () => {
  const client = new pg.Client({ connectionString: inject("databaseUrl") });
  afterAll(() => client.end());

  it("records every migration as Prisma does, with the sha256 of its SQL", async () => {
    await client.connect();
    const { rows } = await client.query<{ migration_name: string; checksum: string; finished_at: Date | null }>(
      `SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" ORDER BY migration_name`,
    );
    const files = await readMigrations();
    expect(rows.map((row) => [row.migration_name, row.checksum])).toEqual(files.map((file) => [file.name, file.checksum]));
    expect(rows.every((row) => row.finished_at instanceof Date)).toBe(true);
  });

  it("is a no-op when run again", async () => {
    await expect(migrate(inject("databaseUrl"))).resolves.toEqual([]);
  });
});
