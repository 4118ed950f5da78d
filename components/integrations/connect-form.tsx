"use client";

import { Alert } from "@/components/ui/alert";
import { SubmitButton } from "@/components/ui/submit-button";
import { TokenField } from "./token-field";
import { FailureAlert } from "./failure-alert";
import type { ConnectFormState } from "@/lib/integrations/buildkite/presentation/form-state";

const ERROR_ID = "buildkite-connect-error";

type ConnectFormProps = { state: ConnectFormState; formAction: (formData: FormData) => void; pending: boolean };

/** Paste a token, press Connect Buildkite; a second step appears when the token reaches several organisations. */
export function ConnectForm({ state, formAction, pending }: ConnectFormProps) {
  const tokenError = state.status === "invalid" && state.field === "token" ? state.message : undefined;
  const hasAlert = state.status === "error" || state.status === "refused";

  return (
    <form action={formAction} className="form" noValidate aria-busy={pending}>
      <TokenField id="buildkite-token" label="Buildkite API Token" error={tokenError} describedBy={hasAlert ? [ERROR_ID] : []} />

      {state.status === "choose_organization" ? (
        <fieldset
          className="choices"
          aria-describedby={state.status === "choose_organization" ? "buildkite-org-hint" : undefined}
        >
          <legend>Which Buildkite organisation should we connect?</legend>
          <p className="field__hint" id="buildkite-org-hint">
            This token can reach {state.organizations.length} organisations. Choose one, then select Connect Buildkite
            again.
          </p>
          {state.organizations.map((organization, index) => (
            <label className="choice" key={organization.slug}>
              <input type="radio" name="buildkiteOrg" value={organization.slug} defaultChecked={index === 0} />
              <span>
                {organization.name} <span className="muted">({organization.slug})</span>
              </span>
            </label>
          ))}
        </fieldset>
      ) : null}

      {state.status === "invalid" && state.field === "buildkiteOrg" ? (
        <Alert tone="error" id={ERROR_ID} role="alert">
          <p>{state.message}</p>
        </Alert>
      ) : null}
      {state.status === "refused" || state.status === "error" ? <FailureAlert state={state} id={ERROR_ID} /> : null}

      <p className="visually-hidden" role="status">
        {pending ? "Checking the token with Buildkite…" : ""}
      </p>
      <div className="form__actions">
        <SubmitButton pendingLabel="Checking with Buildkite…">Connect Buildkite</SubmitButton>
      </div>
    </form>
  );
}
