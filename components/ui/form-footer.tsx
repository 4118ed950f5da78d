import { Alert } from "./alert";
import { SubmitButton } from "./submit-button";

export type FormFailure = { id: string; title?: string; message: string };

/** The failure a settings form's state carries, if any: a refusal (message only) or an error (title and message). */
export function formFailure(
  state: { status: "refused"; message: string } | { status: "error"; title: string; message: string } | { status: string },
  id: string,
): FormFailure | null {
  if ("message" in state && state.status === "refused") return { id, message: state.message };
  if ("title" in state && state.status === "error") return { id, title: state.title, message: state.message };
  return null;
}

type FormFooterProps = {
  /** The last attempt's failure, above the button; `id` is what the fields' aria-describedby names. */
  failure: FormFailure | null;
  pending: boolean;
  /** What a screen reader hears while the server works. */
  pendingAnnouncement: string;
  pendingLabel: string;
  children: React.ReactNode;
};

/** The end of a settings form: the last attempt's failure, the pending announcement and the submit button. */
export function FormFooter({ failure, pending, pendingAnnouncement, pendingLabel, children }: FormFooterProps) {
  return (
    <>
      {failure ? (
        <Alert tone="error" id={failure.id} role="alert" title={failure.title}>
          <p>{failure.message}</p>
        </Alert>
      ) : null}
      <p className="visually-hidden" role="status">
        {pending ? pendingAnnouncement : ""}
      </p>
      <div className="form__actions">
        <SubmitButton pendingLabel={pendingLabel}>{children}</SubmitButton>
      </div>
    </>
  );
}
