import "server-only";

/**
 * Structured log lines on stderr. Callers pass facts (ids, codes, names), never secrets: nothing here can tell a
 * token from any other string, so the rule is kept where the fields are chosen. Errors are reduced to their name
 * and code, because an upstream message could echo what it was sent.
 */
type Fields = Record<string, string | number | boolean | null | undefined>;

function errorFields(error: unknown): Fields {
  if (error === undefined) return {};
  if (!(error instanceof Error)) return { error: typeof error };
  const code = (error as { code?: unknown }).code;
  return { error: error.name, errorCode: typeof code === "string" ? code : undefined };
}

function write(level: "info" | "warn" | "error", event: string, fields: Fields) {
  const line = JSON.stringify({ time: new Date().toISOString(), level, event, ...fields });
  if (level === "info") console.log(line);
  else console.error(line);
}

export const log = {
  info: (event: string, fields: Fields = {}) => write("info", event, fields),
  warn: (event: string, fields: Fields = {}, error?: unknown) => write("warn", event, { ...fields, ...errorFields(error) }),
  error: (event: string, fields: Fields = {}, error?: unknown) => write("error", event, { ...fields, ...errorFields(error) }),
};
