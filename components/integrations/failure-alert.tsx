import { Alert } from "@/components/ui/alert";
import type { ErrorState } from "@/lib/integrations/buildkite/presentation/form-state";

/** A failure as every Buildkite form shows it: title, what to do, and the scopes or new-token link when they help. */
export function FailureAlert({ state, id }: { state: ErrorState | { status: "refused"; message: string }; id?: string }) {
  if (state.status === "refused") {
    return (
      <Alert tone="error" id={id} role="alert">
        <p>{state.message}</p>
      </Alert>
    );
  }
  return (
    <Alert tone="error" id={id} role="alert" title={state.title}>
      <p>{state.message}</p>
      {state.missingScopes ? (
        <ul aria-label="Missing scopes">
          {state.missingScopes.map((scope) => (
            <li key={scope}>
              <code>{scope}</code>
            </li>
          ))}
        </ul>
      ) : null}
      {state.newTokenUrl ? (
        <p>
          <a href={state.newTokenUrl} target="_blank" rel="noopener noreferrer">
            Create a token with these scopes
          </a>
        </p>
      ) : null}
    </Alert>
  );
}
