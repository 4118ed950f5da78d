"use client";

import { useActionState, useState } from "react";
import { Notices } from "@/components/ui/notices";
import { SubmitButton } from "@/components/ui/submit-button";
import type { BuildkiteCardData } from "@/lib/integrations/buildkite/presentation/card";
import type { DiagnosticsFormState } from "@/lib/integrations/buildkite/presentation/diagnostics-view";
import type { ConnectFormState, DisconnectFormState, RotateFormState, VerifyFormState } from "@/lib/integrations/buildkite/presentation/form-state";
import { ConnectForm } from "./connect-form";
import { ConnectionOverview } from "./connection-overview";
import { DiagnosticsReport } from "./diagnostics-report";
import { DisconnectDialog } from "./disconnect-dialog";
import { RotateForm } from "./rotate-form";
import { SetupGuide } from "./setup-guide";
import { VerifyResult } from "./verify-result";

type Action<State> = (previous: State, formData: FormData) => Promise<State>;

export type BuildkiteActions = {
  connect: Action<ConnectFormState>;
  rotate: Action<RotateFormState>;
  disconnect: Action<DisconnectFormState>;
  verify: Action<VerifyFormState>;
  diagnose: Action<DiagnosticsFormState>;
};

type ManageBuildkiteProps = {
  actions: BuildkiteActions;
  card: BuildkiteCardData;
  organizationName: string;
};

const IDLE = { status: "idle" } as const;

type Success = { title: string; notices: Array<{ tone: "success" | "warning" | "info"; text: string }> };

/**
 * Everything an admin does on the card. The forms' states live here, above the connected / not connected switch,
 * so the outcome of a connect, a rotation or a disconnect stays on screen when the card changes under it.
 */
export function ManageBuildkite({ actions, card, organizationName }: ManageBuildkiteProps) {
  const [rotating, setRotating] = useState(false);
  const [dialogOpen, setDialogOpen] = useState(false);
  const [dismissed, setDismissed] = useState<DisconnectFormState | null>(null);
  const [success, setSuccess] = useState<Success | null>(null);
  // Only the outcome of the latest action is shown: an older one would describe a state that has since changed.
  const [latest, setLatest] = useState<"change" | "verify" | "diagnostics" | null>(null);

  // Each change's success is announced above the card, and closes the form or dialog it came from.
  const [connectState, connectAction, connecting] = useActionState(async (previous: ConnectFormState, formData: FormData) => {
    const next = await actions.connect(previous, formData);
    setLatest("change");
    if (next.status === "connected") {
      // The token's warnings stay on the card itself; the notice only says what just happened.
      setSuccess({ title: `Connected to ${next.organizationName}`, notices: [] });
    }
    return next;
  }, IDLE);
  const [rotateState, rotateAction] = useActionState(async (previous: RotateFormState, formData: FormData) => {
    const next = await actions.rotate(previous, formData);
    if (next.status === "rotated") {
      setLatest("change");
      setRotating(false);
      setSuccess({ title: "Token replaced", notices: next.notices });
    }
    return next;
  }, IDLE);
  const [disconnectState, disconnectAction] = useActionState(async (previous: DisconnectFormState, formData: FormData) => {
    const next = await actions.disconnect(previous, formData);
    if (next.status === "disconnected") {
      setLatest("change");
      setDialogOpen(false);
      setSuccess({ title: "Buildkite disconnected", notices: next.notices });
    }
    return next;
  }, IDLE);
  const [verifyState, verifyAction] = useActionState(async (previous: VerifyFormState, formData: FormData) => {
    const next = await actions.verify(previous, formData);
    setLatest("verify");
    return next;
  }, IDLE);
  const [diagnosticsState, diagnoseAction] = useActionState(async (previous: DiagnosticsFormState, formData: FormData) => {
    const next = await actions.diagnose(previous, formData);
    setLatest("diagnostics");
    return next;
  }, IDLE);

  // A cancelled "Disconnect anyway" must not greet the admin the next time the dialog opens.
  const shownDisconnectState = disconnectState === dismissed ? ({ status: "idle" } as const) : disconnectState;
  const closeDialog = () => {
    setDialogOpen(false);
    setDismissed(disconnectState);
  };

  const successNotice = success && latest === "change" ? <Notices title={success.title} notices={success.notices} /> : null;

  if (card.state === "not_connected") {
    return (
      <>
        {successNotice}
        <div className="two-col">
          <SetupGuide />
          <div>
            <h3 className="section-title">Connect</h3>
            <ConnectForm state={connectState} formAction={connectAction} pending={connecting} />
          </div>
        </div>
      </>
    );
  }

  return (
    <>
      {successNotice}
      <ConnectionOverview card={card} />
      <section className="manage" aria-labelledby="buildkite-manage-title">
        <h3 className="section-title" id="buildkite-manage-title">
          Manage
        </h3>
        <div className="actions-row">
          <button type="button" className="button button--secondary" aria-expanded={rotating} onClick={() => setRotating(true)}>
            Rotate token
          </button>
          <form action={verifyAction}>
            <SubmitButton variant="secondary" pendingLabel="Checking with Buildkite…">
              Verify now
            </SubmitButton>
          </form>
          <form action={diagnoseAction}>
            <SubmitButton variant="secondary" pendingLabel="Running diagnostics…">
              Run diagnostics
            </SubmitButton>
          </form>
          <button type="button" className="button button--danger-outline" onClick={() => setDialogOpen(true)}>
            Disconnect
          </button>
        </div>
        {rotating ? (
          <RotateForm
            state={rotateState}
            formAction={rotateAction}
            organizationName={card.details.buildkiteOrg.name}
            currentLastFour={card.details.tokenLastFour}
            onCancel={() => setRotating(false)}
          />
        ) : null}
        {latest === "verify" ? <VerifyResult state={verifyState} /> : null}
        {latest === "diagnostics" ? <DiagnosticsReport state={diagnosticsState} /> : null}
      </section>
      <DisconnectDialog
        open={dialogOpen}
        state={shownDisconnectState}
        formAction={disconnectAction}
        organizationName={organizationName}
        onClose={closeDialog}
      />
    </>
  );
}
