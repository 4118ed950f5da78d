import type { oas32 } from "zod-openapi";

/**
 * Turns the OpenAPI document into what the reference page shows: operations in document order, each with its
 * parameters, request body and responses, and the named schemas as trees of fields. Plain data, so the page's
 * components only lay it out. Written for the shapes zod-openapi emits (objects, arrays, enums, `anyOf` with null,
 * `oneOf` variants, `$ref` to components); anything else is shown by its type name rather than left out.
 */

export type Method = "get" | "put" | "post" | "delete" | "patch";
const METHODS: readonly Method[] = ["get", "put", "post", "delete", "patch"];

export type SchemaView =
  | { kind: "ref"; name: string; nullable: boolean; description?: string }
  | {
      kind: "scalar";
      type: string;
      format?: string;
      nullable: boolean;
      description?: string;
      values?: string[];
      constant?: string;
      pattern?: string;
      example?: string;
      facts: string[];
    }
  | { kind: "array"; items: SchemaView; nullable: boolean; description?: string; facts: string[] }
  | { kind: "object"; fields: FieldView[]; openEnded: boolean; nullable: boolean; description?: string }
  | { kind: "variants"; variants: VariantView[]; nullable: boolean; description?: string };

/** One shape of a `oneOf`, told apart by a field's value(s) when it has one. */
export type VariantView = { when: { field: string; values: string[] } | null; label: string; schema: SchemaView };

export type FieldView = { name: string; required: boolean; schema: SchemaView };

export type ParameterView = { name: string; location: string; required: boolean; schema: SchemaView; description?: string };

export type BodyView = { mediaType: string; schema: SchemaView | null };

export type ResponseView = {
  status: string;
  description: string;
  codes: string[];
  bodies: BodyView[];
  headers: Array<{ name: string; description?: string }>;
};

export type OperationView = {
  id: string;
  method: Method;
  path: string;
  summary: string;
  description?: string;
  parameters: ParameterView[];
  requestBody: { required: boolean; bodies: BodyView[] } | null;
  responses: ResponseView[];
};

export type NamedSchemaView = { name: string; anchor: string; schema: SchemaView };

export type ReferenceView = {
  title: string;
  version: string;
  openapi: string;
  description?: string;
  operations: OperationView[];
  schemas: NamedSchemaView[];
  /** Every problem code the responses name, by HTTP status: what a script may have to handle. */
  problemsByStatus: Array<{ status: string; codes: string[] }>;
};

export const operationAnchor = (operation: { id: string }) => `operation-${operation.id}`;
export const schemaAnchor = (name: string) => `schema-${name}`;

const SCHEMA_REF = "#/components/schemas/";

function isReference(value: unknown): value is oas32.ReferenceObject {
  return typeof value === "object" && value !== null && typeof (value as { $ref?: unknown }).$ref === "string";
}

/** Problem codes in a response description: `snake_case` spans, except field names introduced by "with `…`". */
export function codesIn(description: string): string[] {
  const codes: string[] = [];
  for (const [, introducedByWith, code] of description.matchAll(/(with )?`([a-z][a-z_]*)`/g)) {
    if (!introducedByWith && code && !codes.includes(code)) codes.push(code);
  }
  return codes;
}

// Bounds zod adds to every integer (±(2^53 − 1)) say nothing to a reader.
const meaningfulBound = (value: unknown): value is number => typeof value === "number" && Math.abs(value) < Number.MAX_SAFE_INTEGER;

function factsOf(schema: oas32.SchemaObjectValue): string[] {
  const facts: string[] = [];
  if (meaningfulBound(schema.minimum) && meaningfulBound(schema.maximum)) facts.push(`${schema.minimum} to ${schema.maximum}`);
  else if (meaningfulBound(schema.minimum)) facts.push(`at least ${schema.minimum}`);
  else if (meaningfulBound(schema.maximum)) facts.push(`at most ${schema.maximum}`);
  if (typeof schema.minLength === "number" && typeof schema.maxLength === "number") facts.push(`${schema.minLength} to ${schema.maxLength} characters`);
  else if (typeof schema.maxLength === "number") facts.push(`at most ${schema.maxLength} characters`);
  else if (typeof schema.minLength === "number" && schema.minLength > 0) facts.push(`at least ${schema.minLength} characters`);
  return facts;
}

const describe = (schema: oas32.SchemaObjectValue): string | undefined =>
  typeof schema.description === "string" && schema.description.length > 0 ? schema.description : undefined;

export function schemaView(input: oas32.SchemaObject | oas32.ReferenceObject | undefined): SchemaView {
  if (input === undefined || typeof input === "boolean") return { kind: "scalar", type: "any value", nullable: false, facts: [] };
  if (isReference(input)) {
    return { kind: "ref", name: input.$ref.startsWith(SCHEMA_REF) ? input.$ref.slice(SCHEMA_REF.length) : input.$ref, nullable: false };
  }
  const schema = input as oas32.SchemaObjectValue;
  const description = describe(schema);

  // `anyOf: [X, {type: "null"}]` is how zod says "X or null".
  const alternatives = (schema.anyOf ?? schema.oneOf) as Array<oas32.SchemaObject | oas32.ReferenceObject> | undefined;
  if (Array.isArray(alternatives)) {
    const isNull = (item: unknown) => typeof item === "object" && item !== null && (item as { type?: unknown }).type === "null";
    const rest = alternatives.filter((item) => !isNull(item));
    const nullable = rest.length < alternatives.length;
    if (rest.length === 1) {
      const only = schemaView(rest[0]);
      return { ...only, nullable: nullable || only.nullable, description: description ?? only.description };
    }
    return { kind: "variants", variants: rest.map((item, index) => variantView(item, index)), nullable, description };
  }

  const types = (Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : []) as string[];
  const nullable = types.includes("null");
  const type = types.find((name) => name !== "null");

  if (type === "object" || (!type && (schema.properties || schema.additionalProperties))) {
    const properties = (schema.properties ?? {}) as Record<string, oas32.SchemaObject | oas32.ReferenceObject>;
    const required = new Set<string>(Array.isArray(schema.required) ? schema.required : []);
    const fields = Object.entries(properties).map(([name, property]) => ({ name, required: required.has(name), schema: schemaView(property) }));
    const openEnded = schema.additionalProperties !== undefined && schema.additionalProperties !== false;
    return { kind: "object", fields, openEnded, nullable, description };
  }
  if (type === "array") {
    return { kind: "array", items: schemaView(schema.items as oas32.SchemaObject | oas32.ReferenceObject | undefined), nullable, description, facts: factsOf(schema) };
  }
  const values = Array.isArray(schema.enum) ? schema.enum.map(String) : undefined;
  const constant = schema.const !== undefined ? String(schema.const) : undefined;
  const format = typeof schema.format === "string" ? schema.format : undefined;
  // A format already says what its pattern would (uuid, date-time); a pattern of our own is worth reading.
  const pattern = typeof schema.pattern === "string" && !format ? schema.pattern : undefined;
  const example = schema.example === undefined ? undefined : typeof schema.example === "string" ? schema.example : JSON.stringify(schema.example);
  return { kind: "scalar", type: type ?? "any value", format, nullable, description, values, constant, pattern, example, facts: factsOf(schema) };
}

/** A `oneOf` variant, named by the property that tells it apart (a `const` or `enum`), else by its place. */
function variantView(item: oas32.SchemaObject | oas32.ReferenceObject, index: number): VariantView {
  const schema = schemaView(item);
  if (isReference(item)) return { when: null, label: item.$ref.slice(item.$ref.lastIndexOf("/") + 1), schema };
  if (typeof item === "object") {
    const properties = (item.properties ?? {}) as Record<string, oas32.SchemaObjectValue>;
    for (const [field, property] of Object.entries(properties)) {
      if (property.const !== undefined) return { when: { field, values: [String(property.const)] }, label: `${field} ${String(property.const)}`, schema };
      if (Array.isArray(property.enum)) return { when: { field, values: property.enum.map(String) }, label: `${field} ${property.enum.join(" ")}`, schema };
    }
  }
  return { when: null, label: `Shape ${index + 1}`, schema };
}

function bodiesOf(content: oas32.ContentObject | undefined): BodyView[] {
  return Object.entries(content ?? {}).map(([mediaType, media]) => ({
    mediaType,
    schema: isReference(media) ? schemaView(media) : media.schema ? schemaView(media.schema) : null,
  }));
}

function operationView(path: string, method: Method, operation: oas32.OperationObject): OperationView {
  const parameters = (operation.parameters ?? []).filter((parameter) => !isReference(parameter)) as oas32.ParameterObject[];
  const body = operation.requestBody && !isReference(operation.requestBody) ? operation.requestBody : null;
  const responses = Object.entries(operation.responses ?? {})
    .filter((entry): entry is [string, oas32.ResponseObject] => /^[1-5](\d\d|XX)$|^default$/.test(entry[0]) && !isReference(entry[1]))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([status, response]) => {
      const description = response.description ?? "";
      return {
        status,
        description,
        codes: status.startsWith("2") ? [] : codesIn(description),
        bodies: bodiesOf(response.content),
        headers: Object.entries(response.headers ?? {}).map(([name, header]) => ({
          name,
          description: isReference(header) ? undefined : (header.description ?? describe((header.schema ?? {}) as oas32.SchemaObjectValue)),
        })),
      };
    });
  return {
    id: operation.operationId ?? `${method}-${path}`.replace(/[^A-Za-z0-9_-]+/g, "-"),
    method,
    path,
    summary: operation.summary ?? `${method.toUpperCase()} ${path}`,
    description: operation.description,
    parameters: parameters.map((parameter) => {
      const schema = schemaView(parameter.schema);
      // zod-openapi copies a parameter's description into its schema: show it once.
      const description = parameter.description ?? schema.description;
      return { name: parameter.name, location: parameter.in, required: parameter.required ?? false, schema: { ...schema, description: undefined }, description };
    }),
    requestBody: body ? { required: body.required ?? false, bodies: bodiesOf(body.content) } : null,
    responses,
  };
}

export function referenceView(document: oas32.OpenAPIObject): ReferenceView {
  const operations: OperationView[] = [];
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const method of METHODS) {
      const operation = (item as oas32.PathItemObject)[method];
      if (operation) operations.push(operationView(path, method, operation));
    }
  }
  const schemas = Object.entries(document.components?.schemas ?? {}).map(([name, schema]) => ({
    name,
    anchor: schemaAnchor(name),
    schema: schemaView(schema),
  }));

  const byStatus = new Map<string, string[]>();
  for (const response of operations.flatMap((operation) => operation.responses)) {
    const codes = byStatus.get(response.status) ?? [];
    for (const code of response.codes) if (!codes.includes(code)) codes.push(code);
    if (codes.length > 0) byStatus.set(response.status, codes);
  }

  return {
    title: document.info.title,
    version: document.info.version,
    openapi: document.openapi,
    description: document.info.description,
    operations,
    schemas,
    problemsByStatus: [...byStatus.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([status, codes]) => ({ status, codes })),
  };
}
