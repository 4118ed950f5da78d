import { MethodBadge, OperationSection, PathText } from "./operation-section";
import { operationAnchor, schemaAnchor, type ReferenceView } from "./reference-model";
import { RichText } from "./rich-text";
import { SchemaBody, TypeLabel } from "./schema-tree";

/** A snake_case code that may break after its underscores on a narrow screen, and nowhere else. */
function SnakeCase({ text }: { text: string }) {
  const words = text.split("_");
  return (
    <code>
      {words.map((word, index) => (
        <span key={index}>
          {word}
          {index < words.length - 1 ? (
            <>
              _<wbr />
            </>
          ) : null}
        </span>
      ))}
    </code>
  );
}

/**
 * The OpenAPI document laid out for people, on the server: a list of operations, each operation with its
 * parameters, request body and responses, the problem codes by HTTP status, and the named schemas. No script.
 */
export function ApiReference({ reference }: { reference: ReferenceView }) {
  const schemas = new Map(reference.schemas.map((named) => [named.name, named.schema]));
  const resolve = (name: string) => schemas.get(name);
  // A named schema is read as a request's when some operation sends it.
  const sent = new Set(
    reference.operations.flatMap((operation) =>
      (operation.requestBody?.bodies ?? []).flatMap((body) => (body.schema?.kind === "ref" ? [body.schema.name] : [])),
    ),
  );
  return (
    <div className="stack apiref-reference">
      <nav className="card apiref-toc" aria-labelledby="api-toc-title">
        <h2 id="api-toc-title">Operations</h2>
        <ul>
          {reference.operations.map((operation) => (
            <li key={operation.id}>
              <a href={`#${operationAnchor(operation)}`}>
                <MethodBadge method={operation.method} /> <span>{operation.summary}</span>
              </a>
              <PathText path={operation.path} />
            </li>
          ))}
        </ul>
        <p className="apiref-toc__more">
          Also: <a href="#api-errors">errors by status</a> · <a href="#api-schemas">schemas</a>
        </p>
      </nav>

      <section className="stack apiref-operations" aria-labelledby="api-operations-title">
        <h2 id="api-operations-title" className="visually-hidden">
          Operations in detail
        </h2>
        {reference.operations.map((operation) => (
          <OperationSection key={operation.id} operation={operation} resolve={resolve} />
        ))}
      </section>

      <section className="card apiref-section" id="api-errors" aria-labelledby="api-errors-title">
        <div className="card__body">
          <h2 id="api-errors-title">Errors</h2>
          <p>
            Every error is <code>application/problem+json</code> (RFC 9457), a{" "}
            <a href={`#${schemaAnchor("Problem")}`}>Problem</a>: a stable <code>code</code>, a <code>title</code>, and a{" "}
            <code>detail</code> that says what happened and what to do, in the words the Integrations page uses. Act on the{" "}
            <code>code</code>, not on the wording. The codes each status may carry, as the operations above list them:
          </p>
          <div className="table-wrap">
            <table className="apiref-table">
              <caption className="visually-hidden">Problem codes by HTTP status</caption>
              <thead>
                <tr>
                  <th scope="col">Status</th>
                  <th scope="col">Codes</th>
                </tr>
              </thead>
              <tbody>
                {reference.problemsByStatus.map((row) => (
                  <tr key={row.status}>
                    <th scope="row">{row.status}</th>
                    <td>
                      <ul className="apiref-codes">
                        {row.codes.map((code) => (
                          <li key={code}>
                            <SnakeCase text={code} />
                          </li>
                        ))}
                      </ul>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      </section>

      <section className="stack" id="api-schemas" aria-labelledby="api-schemas-title">
        <h2 id="api-schemas-title">Schemas</h2>
        {reference.schemas.map((named) => (
          <section key={named.name} className="card apiref-schema" id={named.anchor} aria-labelledby={`${named.anchor}-title`}>
            <div className="card__body">
              <div className="apiref-schema__head">
                <h3 id={`${named.anchor}-title`}>{named.name}</h3>
                <TypeLabel schema={named.schema} />
              </div>
              {named.schema.description ? (
                <p>
                  <RichText text={named.schema.description} />
                </p>
              ) : null}
              <SchemaBody schema={named.schema} mode={sent.has(named.name) ? "request" : "response"} />
            </div>
          </section>
        ))}
      </section>
    </div>
  );
}
