"use client";

import { useActionState } from "react";
import { FormFooter, formFailure } from "@/components/ui/form-footer";
import { TextField } from "@/components/ui/text-field";
import { WEBHOOK_EVENTS, WEBHOOK_EVENT_TYPES } from "@/lib/notifications/event-types";
import { IDLE, type AddEndpointFormState } from "@/lib/notifications/form-state";
import { SigningSecret } from "./signing-secret";

const ERROR_ID = "endpoint-add-error";

type AddEndpointFormProps = {
  action: (previous: AddEndpointFormState, formData: FormData) => Promise<AddEndpointFormState>;
  /** WEBHOOKS_ALLOW_PRIVATE_NETWORKS: the hint says http:// is accepted too. */
  allowPrivateNetworks: boolean;
};

/** The Endpoint URL, the events (all by default), Add endpoint; the new endpoint's signing secret then shows once. */
export function AddEndpointForm({ action, allowPrivateNetworks }: AddEndpointFormProps) {
  const [state, formAction, pending] = useActionState(action, IDLE);
  const values = state.status === "invalid" ? state.values : null;
  const urlError = state.status === "invalid" && state.field === "url" ? state.message : undefined;
  const eventsError = state.status === "invalid" && state.field === "events" ? state.message : undefined;
  const failure = formFailure(state, ERROR_ID);
  const hasAlert = failure !== null;

  return (
    <>
      {state.status === "created" ? (
        <SigningSecret id="endpoint-new-secret" secret={state.secret} title="Endpoint added">
          <p>
            Gitar now sends the chosen events to <code className="break-anywhere">{state.url}</code>.
          </p>
        </SigningSecret>
      ) : null}
      <form action={formAction} className="form" noValidate aria-busy={pending}>
        <TextField
          id="endpoint-url"
          name="url"
          label="Endpoint URL"
          type="url"
          inputMode="url"
          hint={
            allowPrivateNetworks
              ? "Where Gitar POSTs each event as JSON. This server also accepts http:// and private addresses (WEBHOOKS_ALLOW_PRIVATE_NETWORKS)."
              : "Where Gitar POSTs each event as JSON: a public https:// address."
          }
          defaultValue={values?.url ?? ""}
          error={urlError}
          describedBy={hasAlert ? [ERROR_ID] : []}
          autoComplete="off"
          spellCheck={false}
          required
        />
        <fieldset className="field" aria-describedby={eventsError ? "endpoint-events-error" : undefined}>
          <legend className="field__label">Events to send</legend>
          {WEBHOOK_EVENT_TYPES.map((type) => (
            <div className="check" key={type}>
              <input
                id={`endpoint-event-${type}`}
                name="events"
                type="checkbox"
                value={type}
                defaultChecked={values ? values.events.includes(type) : true}
              />
              <label htmlFor={`endpoint-event-${type}`} className="check__label">
                {WEBHOOK_EVENTS[type]} <code>{type}</code>
              </label>
            </div>
          ))}
          {eventsError ? (
            <p className="field__error" id="endpoint-events-error" role="alert">
              {eventsError}
            </p>
          ) : null}
        </fieldset>
        <FormFooter
          failure={failure}
          pending={pending}
          pendingAnnouncement="Adding the endpoint…"
          pendingLabel="Adding…"
        >
          Add endpoint
        </FormFooter>
      </form>
    </>
  );
}
