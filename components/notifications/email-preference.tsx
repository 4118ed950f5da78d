"use client";

import { useActionState } from "react";
import { Alert } from "@/components/ui/alert";
import { SubmitButton } from "@/components/ui/submit-button";
import { IDLE, type EmailPreferenceFormState } from "@/lib/notifications/form-state";

type EmailPreferenceProps = {
  enabled: boolean;
  action: (previous: EmailPreferenceFormState, formData: FormData) => Promise<EmailPreferenceFormState>;
};

/** One admin's own choice: email about problems, or not. It changes nothing for the other admins. */
export function EmailPreference({ enabled, action }: EmailPreferenceProps) {
  const [state, formAction] = useActionState(action, IDLE);
  return (
    <form action={formAction} className="form">
      <div className="check">
        <input id="notifications-email" name="emailEnabled" type="checkbox" defaultChecked={enabled} aria-describedby="notifications-email-hint" />
        <div>
          <label htmlFor="notifications-email" className="check__label">
            Email me when Buildkite needs attention, a token is about to expire, or an endpoint is turned off
          </label>
          <p className="field__hint" id="notifications-email-hint">
            This is your own setting: other admins keep theirs.
          </p>
        </div>
      </div>
      {state.status === "saved" ? (
        <Alert tone="success" role="status">
          <p>{state.enabled ? "You will get these emails." : "You will no longer get these emails."}</p>
        </Alert>
      ) : state.status === "error" || state.status === "refused" ? (
        <Alert tone="error" role="alert" title={state.status === "error" ? state.title : undefined}>
          <p>{state.message}</p>
        </Alert>
      ) : null}
      <div className="form__actions">
        <SubmitButton variant="secondary" pendingLabel="Saving…">
          Save email setting
        </SubmitButton>
      </div>
    </form>
  );
}
