"use client";

import { useActionState } from "react";
import { FormFooter, formFailure } from "@/components/ui/form-footer";
import { TextField } from "@/components/ui/text-field";
import { IDLE, type CreateApiKeyFormState } from "@/lib/api-keys/form-state";
import { DEFAULT_EXPIRY, EXPIRY_CHOICES } from "@/lib/api-keys/form-input";
import { NewApiKey } from "./new-api-key";

const ERROR_ID = "api-key-create-error";
const EXPIRES_ID = "api-key-expires";

type CreateApiKeyFormProps = { action: (previous: CreateApiKeyFormState, formData: FormData) => Promise<CreateApiKeyFormState> };

/**
 * Name a key, choose when it expires, create it; the key then appears once above the form. The server action is
 * the form's own action, so the form works from the first paint, before (or without) the page's script. React
 * empties the form after each submission; an invalid attempt's state carries what was sent, to refill it.
 */
export function CreateApiKeyForm({ action }: CreateApiKeyFormProps) {
  const [state, formAction, pending] = useActionState(action, IDLE);

  const values = state.status === "invalid" ? state.values : null;
  const nameError = state.status === "invalid" && state.field === "name" ? state.message : undefined;
  const expiresError = state.status === "invalid" && state.field === "expiresIn" ? state.message : undefined;
  const failure = formFailure(state, ERROR_ID);
  const hasAlert = failure !== null;
  const expiresDescribedBy = [expiresError ? `${EXPIRES_ID}-error` : null, `${EXPIRES_ID}-hint`, hasAlert ? ERROR_ID : null].filter(Boolean).join(" ");

  return (
    <>
      {state.status === "created" ? <NewApiKey apiKey={state.key} name={state.name} expiresAt={state.expiresAt} /> : null}
      <form action={formAction} className="form" noValidate aria-busy={pending}>
        <TextField
          id="api-key-name"
          name="name"
          label="Key name"
          hint="What will use it, such as “terraform” or “deploy pipeline”. Up to 100 characters."
          defaultValue={values?.name ?? ""}
          error={nameError}
          describedBy={hasAlert ? [ERROR_ID] : []}
          autoComplete="off"
          required
        />
        <div className="field">
          <label className="field__label" htmlFor={EXPIRES_ID}>
            Expires
          </label>
          <p className="field__hint" id={`${EXPIRES_ID}-hint`}>
            A key that expires limits the harm if it leaks. Create a new one before then.
          </p>
          <select
            id={EXPIRES_ID}
            name="expiresIn"
            className="input select"
            defaultValue={values?.expiresIn ?? DEFAULT_EXPIRY}
            aria-invalid={expiresError ? true : undefined}
            aria-describedby={expiresDescribedBy}
          >
            {EXPIRY_CHOICES.map((choice) => (
              <option key={choice.value} value={choice.value}>
                {choice.label}
              </option>
            ))}
          </select>
          {expiresError ? (
            <p className="field__error" id={`${EXPIRES_ID}-error`} role="alert">
              {expiresError}
            </p>
          ) : null}
        </div>
        <FormFooter
          failure={failure}
          pending={pending}
          pendingAnnouncement="Creating the key…"
          pendingLabel="Creating…"
        >
          Create API key
        </FormFooter>
      </form>
    </>
  );
}
