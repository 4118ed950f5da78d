import { operationAnchor, type BodyView, type Method, type OperationView, type ResponseView, type SchemaView } from "./reference-model";
import { RichText } from "./rich-text";
import { Presence, SchemaBody, TypeLabel } from "./schema-tree";

export function MethodBadge({ method }: { method: Method }) {
  return <span className={`apiref-method apiref-method--${method}`}>{method.toUpperCase()}</span>;
}

/** A path that breaks after its slashes on a narrow screen, rather than anywhere. */
export function PathText({ path }: { path: string }) {
  const segments = path.split("/");
  return (
    <code className="apiref-path">
      {segments.map((segment, index) => (
        <span key={index}>
          {segment}
          {index < segments.length - 1 ? (
            <>
              /<wbr />
            </>
          ) : null}
        </span>
      ))}
    </code>
  );
}

const PROBLEM_MEDIA_TYPE = "application/problem+json";

const isError = (response: ResponseView) => /^[45]/.test(response.status);

const statusTone = (status: string) => (status.startsWith("2") ? "success" : status.startsWith("4") ? "warning" : status.startsWith("5") ? "error" : "neutral");

/** "application/json · Connection": a body's media type and, when it has one, its schema. */
function MediaTypeLine({ body }: { body: BodyView }) {
  return (
    <p className="apiref-media">
      <code>{body.mediaType}</code>
      {body.schema ? (
        <>
          {" "}
          · <TypeLabel schema={body.schema} />
        </>
      ) : null}
    </p>
  );
}

/** A request body, with the fields of its schema spelled out: what to send matters more than its name. */
function RequestBody({ body, resolve }: { body: BodyView; resolve: (name: string) => SchemaView | undefined }) {
  const schema = body.schema?.kind === "ref" ? (resolve(body.schema.name) ?? body.schema) : body.schema;
  return (
    <>
      <MediaTypeLine body={body} />
      {schema?.description ? (
        <p>
          <RichText text={schema.description} />
        </p>
      ) : null}
      {schema ? <SchemaBody schema={schema} mode="request" /> : null}
    </>
  );
}

/** An error answered as a Problem needs no line saying so: the Errors block says it once. */
const isPlainProblem = (response: ResponseView) =>
  response.bodies.every((body) => body.mediaType === PROBLEM_MEDIA_TYPE && body.schema?.kind === "ref" && body.schema.name === "Problem");

function ResponseList({ responses }: { responses: ResponseView[] }) {
  return (
    <ul className="apiref-responses">
      {responses.map((response) => (
        <li key={response.status} className="apiref-response">
          <span className={`apiref-status apiref-status--${statusTone(response.status)}`}>{response.status}</span>
          <div className="apiref-response__text">
            <p>
              <RichText text={response.description} />
            </p>
            {isPlainProblem(response)
              ? null
              : response.bodies.map((body) => <MediaTypeLine key={body.mediaType} body={body} />)}
            {response.headers.map((header) => (
              <p key={header.name} className="apiref-media">
                Header <code>{header.name}</code>
                {header.description ? `: ${header.description}` : null}
              </p>
            ))}
          </div>
        </li>
      ))}
    </ul>
  );
}

export function OperationSection({ operation, resolve }: { operation: OperationView; resolve: (name: string) => SchemaView | undefined }) {
  const anchor = operationAnchor(operation);
  const successes = operation.responses.filter((response) => !isError(response));
  const errors = operation.responses.filter(isError);
  return (
    <section className="card apiref-operation" id={anchor} aria-labelledby={`${anchor}-title`}>
      <div className="apiref-operation__header">
        <h3 id={`${anchor}-title`}>{operation.summary}</h3>
        <p className="apiref-endpoint">
          <MethodBadge method={operation.method} /> <PathText path={operation.path} />
        </p>
      </div>
      <div className="apiref-operation__body">
        {operation.description ? (
          <p>
            <RichText text={operation.description} />
          </p>
        ) : null}

        {operation.parameters.length > 0 ? (
          <div className="apiref-block">
            <h4>Parameters</h4>
            <ul className="apiref-fields">
              {operation.parameters.map((parameter) => (
                <li key={`${parameter.location}:${parameter.name}`} className="apiref-field">
                  <p className="apiref-field__head">
                    <code className="apiref-field__name">{parameter.name}</code> <span className="apiref-location">{parameter.location}</span>{" "}
                    <TypeLabel schema={parameter.schema} /> <Presence required={parameter.required} mode="request" />
                  </p>
                  {parameter.description ? (
                    <p className="apiref-field__description">
                      <RichText text={parameter.description} />
                    </p>
                  ) : null}
                  <SchemaBody schema={parameter.schema} mode="request" />
                </li>
              ))}
            </ul>
          </div>
        ) : null}

        {operation.requestBody ? (
          <div className="apiref-block">
            <h4>Request body {operation.requestBody.required ? <span className="apiref-required">required</span> : null}</h4>
            {operation.requestBody.bodies.map((body) => (
              <RequestBody key={body.mediaType} body={body} resolve={resolve} />
            ))}
          </div>
        ) : null}

        <div className="apiref-block">
          <h4>Responses</h4>
          <ResponseList responses={successes} />
        </div>

        {errors.length > 0 ? (
          <div className="apiref-block">
            <h4>Errors</h4>
            <p className="apiref-media">
              Each a <TypeLabel schema={{ kind: "ref", name: "Problem", nullable: false }} /> (<code>{PROBLEM_MEDIA_TYPE}</code>) whose{" "}
              <code>code</code> is one of those named.
            </p>
            <ResponseList responses={errors} />
          </div>
        ) : null}
      </div>
    </section>
  );
}

