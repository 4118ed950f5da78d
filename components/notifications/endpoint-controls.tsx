"use client";

import { useActionState } from "react";
import { Alert } from "@/components/ui/alert";
import { SubmitButton } from "@/components/ui/submit-button";
import { formatDateTime } from "@/lib/format";
import { IDLE, type EndpointFormState } from "@/lib/notifications/form-state";
import { SigningSecret } from "./signing-secret";

type Action = (previous: EndpointFormState, formData: FormData) => Promise<EndpointFormState>;

export type EndpointActions = { sendTest: Action; disable: Action; enable: Action; roll: Action; remove: Action };

type EndpointControlsProps = { endpointId: string; host: string; enabled: boolean; actions: EndpointActions };

function Outcome({ state, endpointId }: { state: EndpointFormState; endpointId: string }) {
  switch (state.status) {
    case "done":
      return (
        <Alert tone="success" role="status">
          <p>{state.message}</p>
        </Alert>
      );
    case "rolled":
      return (
        <SigningSecret id={`endpoint-rolled-secret-${endpointId}`} secret={state.secret} title="Signing secret rolled">
          <p>
            Deliveries are signed with both the new and the previous secret until {formatDateTime(state.previousValidUntil)}: update your
            receiver before then.
          </p>
        </SigningSecret>
      );
    case "error":
    case "refused":
      return (
        <Alert tone="error" role="alert" title={state.status === "error" ? state.title : undefined}>
          <p>{state.message}</p>
        </Alert>
      );
    default:
      return null;
  }
}

/** One endpoint's buttons. Each is a form of its own, so it works before (or without) the page's script. */
export function EndpointControls({ endpointId, host, enabled, actions }: EndpointControlsProps) {
  const [testState, testAction] = useActionState(actions.sendTest, IDLE);
  const [toggleState, toggleAction] = useActionState(enabled ? actions.disable : actions.enable, IDLE);
  const [rollState, rollAction] = useActionState(actions.roll, IDLE);
  const [removeState, removeAction] = useActionState(actions.remove, IDLE);
  const hidden = <input type="hidden" name="endpointId" value={endpointId} />;

  return (
    <div className="endpoint-controls">
      <div className="endpoint-controls__buttons">
        <form action={testAction}>
          {hidden}
          <SubmitButton variant="secondary" pendingLabel="Sending…">
            Send test event<span className="visually-hidden"> to {host}</span>
          </SubmitButton>
        </form>
        <form action={toggleAction}>
          {hidden}
          <SubmitButton variant="secondary" pendingLabel={enabled ? "Disabling…" : "Enabling…"}>
            {enabled ? "Disable" : "Enable"}
            <span className="visually-hidden"> {host}</span>
          </SubmitButton>
        </form>
        <form action={rollAction}>
          {hidden}
          <SubmitButton variant="secondary" pendingLabel="Rolling…">
            Roll secret<span className="visually-hidden"> of {host}</span>
          </SubmitButton>
        </form>
        <details className="endpoint-controls__delete">
          <summary className="button button--danger-outline">
            Delete…<span className="visually-hidden"> {host}</span>
          </summary>
          <form action={removeAction} className="endpoint-controls__confirm">
            {hidden}
            <p>Delete this endpoint and its delivery log? It gets no more events. This cannot be undone.</p>
            <SubmitButton variant="danger" pendingLabel="Deleting…">
              Delete endpoint
            </SubmitButton>
          </form>
        </details>
      </div>
      <Outcome state={testState} endpointId={endpointId} />
      <Outcome state={toggleState} endpointId={endpointId} />
      <Outcome state={rollState} endpointId={endpointId} />
      <Outcome state={removeState} endpointId={endpointId} />
    </div>
  );
}
