"use client";

import { SubmitButton } from "@/components/ui/submit-button";
import { CheckboxField } from "@/components/ui/checkbox-field";
import { TokenField } from "./token-field";
import type { RotateFormState } from "@/lib/integrations/buildkite/presentation/form-state";
import { FailureAlert } from "./failure-alert";

const ERROR_ID = "buildkite-rotate-error";

type RotateFormProps = {
  state: RotateFormState;
  formAction: (formData: FormData) => void;
  organizationName: string;
  currentLastFour: string;
  onCancel: () => void;
};

/** Paste the replacement token; the old one stays in use until the new one is stored, read back and recorded. */
export function RotateForm({ state, formAction, organizationName, currentLastFour, onCancel }: RotateFormProps) {
  const tokenError = state.status === "invalid" ? state.message : undefined;
  const hasAlert = state.status === "error" || state.status === "refused";
  return (
    <form action={formAction} className="form panel" noValidate aria-labelledby="buildkite-rotate-title">
      <h3 id="buildkite-rotate-title" className="panel__title">
        Rotate token
      </h3>
      <p className="muted">
        The current token (ending in <code>{currentLastFour}</code>) stays in use until the new one is checked, stored and
        recorded. The new token must reach {organizationName} and carry the nine scopes.
      </p>
      {/* The admin just asked to rotate: the field they need next gets the focus. */}
      <TokenField id="buildkite-new-token" label="New Buildkite API Token" error={tokenError} describedBy={hasAlert ? [ERROR_ID] : []} autoFocus />
      <CheckboxField
        id="buildkite-revoke-previous"
        name="revokePrevious"
        label="Revoke the previous token at Buildkite"
        hint={
          <>
            After the switch, the token ending in <code>{currentLastFour}</code> stops working everywhere it is used.
          </>
        }
      />
      {state.status === "error" || state.status === "refused" ? <FailureAlert state={state} id={ERROR_ID} /> : null}
      <div className="form__actions">
        <SubmitButton pendingLabel="Replacing token…">Replace token</SubmitButton>
        <button type="button" className="button button--secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
