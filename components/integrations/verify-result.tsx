import { Alert } from "@/components/ui/alert";
import type { VerifyFormState } from "@/lib/integrations/buildkite/presentation/form-state";
import { FailureAlert } from "./failure-alert";

/** What "Verify now" found; the card's badge and details update with it. */
export function VerifyResult({ state }: { state: VerifyFormState }) {
  if (state.status === "checked") {
    return (
      <Alert tone={state.tone === "success" ? "success" : "warning"} role="status" title={state.title}>
        <p>{state.message}</p>
      </Alert>
    );
  }
  if (state.status === "error" || state.status === "refused") return <FailureAlert state={state} />;
  return null;
}
