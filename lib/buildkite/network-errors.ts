import { BuildkiteError } from "./errors";

/** Turns what undici throws (no answer from Buildkite) into a BuildkiteError with a short, non-secret reason. */

const UNREACHABLE_REASONS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed",
  ECONNRESET: "connection reset",
  UND_ERR_SOCKET: "connection closed before the response",
  EPIPE: "connection closed while sending",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ENETDOWN: "network down",
  EHOSTDOWN: "host down",
  UND_ERR_REQ_RETRY: "connection reset during the response",
};

const TIMEOUT_REASONS: Record<string, string> = {
  UND_ERR_CONNECT_TIMEOUT: "connect timeout",
  UND_ERR_HEADERS_TIMEOUT: "no response headers in time",
  UND_ERR_BODY_TIMEOUT: "response body stalled",
  ETIMEDOUT: "connect timeout",
};

/** Why the call was cut short by us, if it was: the client's own budget, or the caller's signal. */
export type Interruption = "budget" | "deadline" | undefined;

export function networkError(error: unknown, interruption: Interruption, timeoutMs: number): BuildkiteError {
  if (interruption === "deadline") return deadlineError();
  if (interruption === "budget") {
    return new BuildkiteError("timeout", `Buildkite did not answer within ${timeoutMs} ms`, { reason: "time budget spent" });
  }
  const code = errorCode(error);
  const timeoutReason = code ? TIMEOUT_REASONS[code] : undefined;
  if (timeoutReason) {
    return new BuildkiteError("timeout", `Buildkite did not answer in time (${timeoutReason})`, { reason: timeoutReason, cause: error });
  }
  if (code?.startsWith("ERR_TLS") || code?.includes("CERT")) {
    return new BuildkiteError("unreachable", `Could not reach Buildkite (TLS failure: ${code})`, { reason: "TLS failure", cause: error });
  }
  const reason = (code && UNREACHABLE_REASONS[code]) ?? (code ? `network error ${code}` : "network error");
  return new BuildkiteError("unreachable", `Could not reach Buildkite (${reason})`, { reason, cause: error });
}

/** The caller's signal fired (its deadline, or it gave up) before Buildkite answered. */
export function deadlineError(): BuildkiteError {
  return new BuildkiteError("timeout", "The call was abandoned before Buildkite answered (caller's deadline)", {
    reason: "deadline reached",
  });
}

/** The system/undici error code, looking inside the wrappers Node and undici put around it. */
function errorCode(error: unknown, depth = 0): string | undefined {
  if (error === null || typeof error !== "object" || depth > 3) return undefined;
  const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === "string") return code;
  if (Array.isArray(errors)) {
    for (const inner of errors) {
      const innerCode = errorCode(inner, depth + 1);
      if (innerCode) return innerCode;
    }
  }
  return errorCode(cause, depth + 1);
}
