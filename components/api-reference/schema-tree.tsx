import { schemaAnchor, type FieldView, type SchemaView } from "./reference-model";
import { RichText } from "./rich-text";

/** What a value is, in a few words: "string or null", "array of AuditEvent", a link for a named schema. */
export function TypeLabel({ schema }: { schema: SchemaView }) {
  const orNull = schema.nullable ? " or null" : "";
  switch (schema.kind) {
    case "ref":
      return (
        <span className="apiref-type">
          <a href={`#${schemaAnchor(schema.name)}`}>{schema.name}</a>
          {orNull}
        </span>
      );
    case "array":
      return (
        <span className="apiref-type">
          array of <TypeLabel schema={{ ...schema.items, nullable: false }} />
          {schema.items.nullable ? " (each may be null)" : ""}
          {orNull}
        </span>
      );
    case "object":
      return <span className="apiref-type">object{orNull}</span>;
    case "variants":
      return <span className="apiref-type">one of {schema.variants.length} shapes{orNull}</span>;
    case "scalar":
      return (
        <span className="apiref-type">
          {schema.type}
          {schema.format ? ` (${schema.format})` : ""}
          {orNull}
        </span>
      );
  }
}

function Facts({ schema }: { schema: SchemaView }) {
  if (schema.kind !== "scalar" && schema.kind !== "array") return null;
  const { values, constant, pattern, example } = schema.kind === "scalar" ? schema : {};
  if (!values && constant === undefined && !pattern && example === undefined && schema.facts.length === 0) return null;
  return (
    <p className="apiref-facts">
      {constant !== undefined ? (
        <>
          Always <code>{constant}</code>.{" "}
        </>
      ) : null}
      {values ? (
        <>
          One of{" "}
          {values.map((value, index) => (
            <span key={value}>
              {index > 0 ? ", " : ""}
              <code>{value}</code>
            </span>
          ))}
          .{" "}
        </>
      ) : null}
      {pattern ? (
        <>
          Matches <code>{pattern}</code>.{" "}
        </>
      ) : null}
      {example !== undefined ? (
        <>
          Example: <code>{example}</code>.{" "}
        </>
      ) : null}
      {schema.facts.length > 0 ? <span className="muted">{schema.facts.join(" · ")}</span> : null}
    </p>
  );
}

/**
 * Whether fields are sent or received: a request's fields are each "required" or "optional"; a response's are
 * always there unless marked "may be absent" (a red REQUIRED on every field of an answer would only be noise).
 */
export type FieldMode = "request" | "response";

export function Presence({ required, mode }: { required: boolean; mode: FieldMode }) {
  if (mode === "request") return <span className={required ? "apiref-required" : "apiref-optional"}>{required ? "required" : "optional"}</span>;
  return required ? null : <span className="apiref-optional">may be absent</span>;
}

/** The fields inside a schema (an object's, an array's items', each variant's), nested as deep as they go. */
export function SchemaBody({ schema, mode }: { schema: SchemaView; mode: FieldMode }) {
  switch (schema.kind) {
    case "object":
      return (
        <>
          {schema.fields.length > 0 ? <FieldList fields={schema.fields} mode={mode} /> : null}
          {schema.openEnded ? (
            <p className="apiref-facts muted">{schema.fields.length > 0 ? "Other fields may be present." : "Any fields."}</p>
          ) : null}
        </>
      );
    case "array":
      return schema.items.kind === "object" || schema.items.kind === "variants" ? <SchemaBody schema={schema.items} mode={mode} /> : <Facts schema={schema.items} />;
    case "variants":
      return (
        <ul className="apiref-variants">
          {schema.variants.map((variant) => (
            <li key={variant.label}>
              <p className="apiref-variants__label">
                {variant.when ? (
                  <>
                    When <code>{variant.when.field}</code> is{" "}
                    {variant.when.values.map((value, index) => (
                      <span key={value}>
                        {index > 0 ? " or " : ""}
                        <code>{value}</code>
                      </span>
                    ))}
                  </>
                ) : (
                  variant.label
                )}
              </p>
              <SchemaBody schema={variant.schema} mode={mode} />
            </li>
          ))}
        </ul>
      );
    case "scalar":
      return <Facts schema={schema} />;
    case "ref":
      return null;
  }
}

export function FieldList({ fields, mode }: { fields: FieldView[]; mode: FieldMode }) {
  return (
    <ul className="apiref-fields">
      {fields.map((field) => (
        <li key={field.name} className="apiref-field">
          <p className="apiref-field__head">
            <code className="apiref-field__name">{field.name}</code> <TypeLabel schema={field.schema} /> <Presence required={field.required} mode={mode} />
          </p>
          {field.schema.description ? (
            <p className="apiref-field__description">
              <RichText text={field.schema.description} />
            </p>
          ) : null}
          {field.schema.kind === "object" || field.schema.kind === "variants" || field.schema.kind === "array" ? (
            <SchemaBody schema={field.schema} mode={mode} />
          ) : (
            <Facts schema={field.schema} />
          )}
        </li>
      ))}
    </ul>
  );
}
