import type { InputHTMLAttributes } from "react";

type TextFieldProps = Omit<InputHTMLAttributes<HTMLInputElement>, "id"> & {
  id: string;
  label: string;
  hint?: React.ReactNode;
  error?: string;
  /** Ids of other messages about this field (e.g. an alert below the form). */
  describedBy?: string[];
  mono?: boolean;
};

/** A labelled input whose hint and error are tied to it, so a screen reader reads them with the field. */
export function TextField({ id, label, hint, error, describedBy = [], mono, className, ...input }: TextFieldProps) {
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  const describedByIds = [errorId, hintId, ...describedBy].filter(Boolean).join(" ") || undefined;
  return (
    <div className="field">
      <label className="field__label" htmlFor={id}>
        {label}
      </label>
      {hint ? (
        <p className="field__hint" id={hintId}>
          {hint}
        </p>
      ) : null}
      <input
        id={id}
        className={["input", mono ? "input--mono" : null, className].filter(Boolean).join(" ")}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedByIds}
        {...input}
      />
      {error ? (
        <p className="field__error" id={errorId} role="alert">
          {error}
        </p>
      ) : null}
    </div>
  );
}
