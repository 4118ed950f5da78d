"use client";

import { useActionState, useEffect, useRef, useState, useSyncExternalStore } from "react";
import { Alert } from "@/components/ui/alert";
import { SubmitButton } from "@/components/ui/submit-button";
import { IDLE, type RevokeApiKeyFormState } from "@/lib/api-keys/form-state";

type RevokeApiKeyProps = {
  keyId: string;
  name: string;
  /** Revoked and expired keys get no button; the control stays mounted to announce a revocation it just made. */
  active: boolean;
  action: (previous: RevokeApiKeyFormState, formData: FormData) => Promise<RevokeApiKeyFormState>;
  /** Where the focus goes once the key is revoked and its button is gone. */
  focusAfterRevokeId: string;
};

const noSubscription = () => () => {};

/** False in the server's HTML and until the page's script runs; true once this component can open its dialog. */
const useHydrated = () => useSyncExternalStore(noSubscription, () => true, () => false);

/**
 * A key's Revoke button and the dialog that asks first. Focus starts on Cancel: revoking cannot be undone. If the key
 * was revoked (or went) meanwhile, the dialog says so and offers only Close.
 */
export function RevokeApiKey({ keyId, name, active, action, focusAfterRevokeId }: RevokeApiKeyProps) {
  const [open, setOpen] = useState(false);
  // A failure the admin closed must not greet them the next time the dialog opens.
  const [dismissed, setDismissed] = useState<RevokeApiKeyFormState | null>(null);
  const [state, formAction] = useActionState(async (previous: RevokeApiKeyFormState, formData: FormData) => {
    const next = await action(previous, formData);
    if (next.status === "revoked") setOpen(false);
    return next;
  }, IDLE);
  const hydrated = useHydrated();
  const dialog = useRef<HTMLDialogElement>(null);
  const cancel = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (open && !element.open) {
      element.showModal();
      cancel.current?.focus();
    }
    if (!open && element.open) element.close();
  }, [open]);

  useEffect(() => {
    if (state.status === "revoked") document.getElementById(focusAfterRevokeId)?.focus();
  }, [state, focusAfterRevokeId]);

  const close = () => {
    setOpen(false);
    setDismissed(state);
  };
  const shown = state === dismissed ? IDLE : state;
  const gone = shown.status === "error" && (shown.code === "not_found" || shown.code === "already_revoked");
  const titleId = `api-key-revoke-title-${keyId}`;

  return (
    <>
      {active ? (
        // Disabled until the script runs: before then a click could not open the dialog, and would be lost.
        <button
          type="button"
          className="button button--danger-outline api-keys-table__revoke"
          onClick={() => setOpen(true)}
          aria-haspopup="dialog"
          disabled={!hydrated}
        >
          Revoke<span className="visually-hidden"> “{name}”</span>
        </button>
      ) : null}
      {active || open ? (
        <dialog ref={dialog} className="dialog" aria-labelledby={titleId} onClose={close}>
          <form action={formAction} className="form">
            <input type="hidden" name="keyId" value={keyId} />
            <h2 id={titleId} className="api-keys-dialog__title">
              Revoke “{name}”?
            </h2>
            <p>
              Scripts and services using this key stop working at once: every call they make to the API is refused from
              now on. This cannot be undone; if something still needs access, create a new key for it.
            </p>
            {shown.status === "error" || shown.status === "refused" ? (
              <Alert tone="error" role="alert" title={shown.status === "error" ? shown.title : undefined}>
                <p>{shown.message}</p>
              </Alert>
            ) : null}
            <div className="form__actions">
              {gone ? null : (
                <SubmitButton variant="danger" pendingLabel="Revoking…">
                  Revoke key
                </SubmitButton>
              )}
              <button ref={cancel} type="button" className="button button--secondary" onClick={close}>
                {gone ? "Close" : "Cancel"}
              </button>
            </div>
          </form>
        </dialog>
      ) : null}
      <p className="visually-hidden" role="status">
        {state.status === "revoked" ? `API key “${state.name}” revoked. It no longer works.` : ""}
      </p>
    </>
  );
}
