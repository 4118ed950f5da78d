"use client";

import { useActionState, useState } from "react";
import { Alert } from "@/components/ui/alert";
import { SubmitButton } from "@/components/ui/submit-button";
import { TextField } from "@/components/ui/text-field";
import type { ConnectFormState } from "@/lib/integrations/buildkite/form-state";

const ERROR_ID = "buildkite-connect-error";

export type ConnectAction = (previous: ConnectFormState, formData: FormData) => Promise<ConnectFormState>;

/** Paste a token, press Connect Buildkite; a second step appears when the token reaches several organisations. */
export function ConnectForm({ action }: { action: ConnectAction }) {
  const [state, formAction, pending] = useActionState<ConnectFormState, FormData>(action, { status: "idle" });
  // Kept in state so a second step (choosing the organisation) or a retry does not make the admin paste it again.
  const [token, setToken] = useState("");

  const tokenError = state.status === "invalid" && state.field === "token" ? state.message : undefined;
  const hasAlert = state.status === "error" || state.status === "refused";

  return (
    <form action={formAction} className="form" noValidate aria-busy={pending}>
      <TextField
        id="buildkite-token"
        name="token"
        type="password"
        label="Buildkite API Token"
        hint="Starts with bkua_. Stored encrypted; never shown again."
        autoComplete="off"
        spellCheck={false}
        autoCapitalize="off"
        // Ask password managers not to offer to save it: it is a machine credential, not the admin's password.
        data-1p-ignore
        data-lpignore="true"
        mono
        value={token}
        onChange={(event) => setToken(event.target.value)}
        error={tokenError}
        describedBy={hasAlert ? [ERROR_ID] : []}
        required
      />

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
      {state.status === "refused" ? (
        <Alert tone="error" id={ERROR_ID} role="alert">
          <p>{state.message}</p>
        </Alert>
      ) : null}
      {state.status === "error" ? (
        <Alert tone="error" id={ERROR_ID} role="alert" title={state.title}>
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
      ) : null}
      {state.status === "connected" ? (
        <Alert tone="success" role="status" title={`Connected to ${state.organizationName}`}>
          {state.warnings.map((warning) => (
            <p key={warning}>{warning}</p>
          ))}
        </Alert>
      ) : null}

      <p className="visually-hidden" role="status">
        {pending ? "Checking the token with Buildkite…" : ""}
      </p>
      <div className="form__actions">
        <SubmitButton pendingLabel="Checking with Buildkite…">Connect Buildkite</SubmitButton>
      </div>
    </form>
  );
}
