// Guards the hand-applied SQL migrations against drifting from prisma/schema.prisma: the migrated database must
// have exactly the tables, columns (type, nullability), enums and indexes that Prisma's own parser reads from
// the schema. (`prisma migrate diff` would do this, but its native engine cannot be downloaded here.)
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

type DmmfField = {
  name: string;
  dbName?: string | null;
  kind: "scalar" | "enum" | "object";
  type: string;
  isList: boolean;
  isRequired: boolean;
  nativeType?: [string, string[]] | null;
};
type DmmfModel = { name: string; dbName: string | null; fields: DmmfField[] };
type DmmfIndex = { model: string; type: "id" | "unique" | "normal" | "fulltext"; fields: Array<{ name: string }> };
type Dmmf = { datamodel: { models: DmmfModel[]; enums: Array<{ name: string; values: Array<{ name: string }> }>; indexes: DmmfIndex[] } };

const require = createRequire(import.meta.url);
const schemaWasm = require("@prisma/prisma-schema-wasm") as { get_dmmf(params: string): string };
const schemaPath = path.resolve(import.meta.dirname, "../../prisma/schema.prisma");
const dmmf = JSON.parse(
  schemaWasm.get_dmmf(JSON.stringify({ prismaSchema: [["schema.prisma", readFileSync(schemaPath, "utf8")]] })),
) as Dmmf;

const SCALAR_UDT: Record<string, string> = {
  String: "text",
  Boolean: "bool",
  Int: "int4",
  BigInt: "int8",
  Float: "float8",
  Decimal: "numeric",
  DateTime: "timestamp",
  Json: "jsonb",
  Bytes: "bytea",
};
const NATIVE_UDT: Record<string, string> = { Uuid: "uuid", Text: "text", Timestamptz: "timestamptz", Timestamp: "timestamp" };

function expectedUdt(field: DmmfField): string {
  const base = field.kind === "enum" ? field.type : (field.nativeType && NATIVE_UDT[field.nativeType[0]]) ?? SCALAR_UDT[field.type];
  if (!base) throw new Error(`No Postgres type known for ${field.type}`);
  return field.isList ? `_${base}` : base;
}

const tableOf = (model: DmmfModel) => model.dbName ?? model.name;
const columnOf = (model: DmmfModel, fieldName: string) => {
  const field = model.fields.find((candidate) => candidate.name === fieldName);
  return field?.dbName ?? fieldName;
};

describe("migrated database matches prisma/schema.prisma", () => {
  const client = new pg.Client({ connectionString: inject("databaseUrl") });
  beforeAll(() => client.connect());
  afterAll(() => client.end());

  it("has exactly the schema's tables", async () => {
    const { rows } = await client.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'`,
    );
    expect(rows.map((row) => row.table_name).sort()).toEqual(dmmf.datamodel.models.map(tableOf).sort());
  });

  it("has exactly the schema's columns, types and nullability", async () => {
    const { rows } = await client.query<{ table_name: string; column_name: string; udt_name: string; is_nullable: string }>(
      `SELECT table_name, column_name, udt_name, is_nullable FROM information_schema.columns
       WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'`,
    );
    const actual = rows.map((row) => `${row.table_name}.${row.column_name} ${row.udt_name} ${row.is_nullable === "YES" ? "null" : "not null"}`);
    const expected = dmmf.datamodel.models.flatMap((model) =>
      model.fields
        .filter((field) => field.kind !== "object")
        .map((field) => {
          // Prisma creates scalar lists as nullable arrays.
          const nullable = !field.isRequired || field.isList;
          return `${tableOf(model)}.${field.dbName ?? field.name} ${expectedUdt(field)} ${nullable ? "null" : "not null"}`;
        }),
    );
    expect(actual.sort()).toEqual(expected.sort());
  });

  it("has the schema's enums with their values in order", async () => {
    const { rows } = await client.query<{ typname: string; labels: string[] }>(
      `SELECT t.typname, array_agg(e.enumlabel ORDER BY e.enumsortorder)::text[] AS labels
       FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
       WHERE n.nspname = 'public' GROUP BY t.typname`,
    );
    const actual = Object.fromEntries(rows.map((row) => [row.typname, row.labels]));
    const expected = Object.fromEntries(dmmf.datamodel.enums.map((entry) => [entry.name, entry.values.map((value) => value.name)]));
    expect(actual).toEqual(expected);
  });

  it("has the schema's primary keys, unique and plain indexes", async () => {
    const { rows } = await client.query<{ table_name: string; columns: string[]; is_unique: boolean; is_primary: boolean }>(
      `SELECT t.relname AS table_name, ix.indisunique AS is_unique, ix.indisprimary AS is_primary,
              array_agg(a.attname ORDER BY k.ordinality)::text[] AS columns
       FROM pg_index ix
       JOIN pg_class t ON t.oid = ix.indrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
       CROSS JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ordinality)
       JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
       WHERE n.nspname = 'public' AND t.relname <> '_prisma_migrations'
       GROUP BY t.relname, ix.indexrelid, ix.indisunique, ix.indisprimary`,
    );
    const kind = (row: { is_unique: boolean; is_primary: boolean }) => (row.is_primary ? "id" : row.is_unique ? "unique" : "normal");
    const actual = rows.map((row) => `${row.table_name} ${kind(row)} (${row.columns.join(", ")})`);
    const expected = dmmf.datamodel.indexes.map((index) => {
      const model = dmmf.datamodel.models.find((candidate) => candidate.name === index.model)!;
      return `${tableOf(model)} ${index.type} (${index.fields.map((field) => columnOf(model, field.name)).join(", ")})`;
    });
    expect(actual.sort()).toEqual(expected.sort());
  });
});
