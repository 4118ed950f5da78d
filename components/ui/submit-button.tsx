"use client";

import { useFormStatus } from "react-dom";

type SubmitButtonProps = {
  children: React.ReactNode;
  pendingLabel: string;
  variant?: "primary" | "secondary" | "danger";
  /** For a form with several submit buttons: sent as the button's name=value. */
  name?: string;
  value?: string;
};

/** A form's submit button that shows progress and cannot be pressed twice while the server works. */
export function SubmitButton({ children, pendingLabel, variant = "primary", name, value }: SubmitButtonProps) {
  const { pending } = useFormStatus();
  return (
    <button type="submit" className={`button button--${variant}`} disabled={pending} aria-disabled={pending} name={name} value={value}>
      {pending ? (
        <>
          <span className="spinner" aria-hidden="true" />
          <span>{pendingLabel}</span>
        </>
      ) : (
        children
      )}
    </button>
  );
}
