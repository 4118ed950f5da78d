"use client";

import { useEffect, useRef } from "react";
import { SubmitButton } from "@/components/ui/submit-button";
import { Alert } from "@/components/ui/alert";
import { CheckboxField } from "@/components/ui/checkbox-field";
import type { DisconnectFormState } from "@/lib/integrations/buildkite/presentation/form-state";
import { FailureAlert } from "./failure-alert";

type DisconnectDialogProps = {
  open: boolean;
  state: DisconnectFormState;
  formAction: (formData: FormData) => void;
  organizationName: string;
  onClose: () => void;
};

/**
 * Asks before disconnecting, with "Also revoke the token at Buildkite" ticked. If revoking fails, nothing has changed
 * and the dialog offers "Disconnect anyway" (which disconnects without revoking) or Cancel.
 */
export function DisconnectDialog({ open, state, formAction, organizationName, onClose }: DisconnectDialogProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (open && !element.open) element.showModal();
    if (!open && element.open) element.close();
  }, [open]);

  const revokeFailed = state.status === "revoke_failed";
  // The form exists only while the dialog is open: closed, it would be rendered and hydrated on every view for nothing.
  return (
    <dialog ref={dialog} className="dialog" aria-labelledby="buildkite-disconnect-title" onClose={onClose}>
      {open ? (
        <form action={formAction} className="form">
          <h2 id="buildkite-disconnect-title">Disconnect Buildkite?</h2>
          <p>
            Gitar stops watching {organizationName}’s builds and the stored token is deleted. You can connect again at any
            time.
          </p>
          {revokeFailed ? (
            <>
              {/* Keep revoking on "Disconnect anyway": if it fails again, disconnect regardless. */}
              <input type="hidden" name="revokeAtBuildkite" value="true" />
              <Alert tone="error" role="alert" title={state.title}>
                <p>{state.message}</p>
              </Alert>
              <div className="form__actions">
                <SubmitButton variant="danger" name="evenIfRevokeFails" value="true" pendingLabel="Disconnecting…">
                  Disconnect anyway
                </SubmitButton>
                <button type="button" className="button button--secondary" onClick={onClose}>
                  Cancel
                </button>
              </div>
            </>
          ) : (
            <>
              <CheckboxField
                id="buildkite-revoke-on-disconnect"
                name="revokeAtBuildkite"
                label="Also revoke the token at Buildkite"
                hint="Recommended: the token then stops working everywhere, not just here."
                defaultChecked
              />
              {state.status === "error" || state.status === "refused" ? <FailureAlert state={state} /> : null}
              <div className="form__actions">
                <SubmitButton variant="danger" pendingLabel="Disconnecting…">
                  Disconnect Buildkite
                </SubmitButton>
                <button type="button" className="button button--secondary" onClick={onClose}>
                  Cancel
                </button>
              </div>
            </>
          )}
        </form>
      ) : null}
    </dialog>
  );
}
