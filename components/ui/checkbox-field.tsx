/** A labelled checkbox with an optional hint tied to it. */
export function CheckboxField({
  id,
  name,
  label,
  hint,
  defaultChecked,
}: {
  id: string;
  name: string;
  label: string;
  hint?: React.ReactNode;
  defaultChecked?: boolean;
}) {
  const hintId = hint ? `${id}-hint` : undefined;
  return (
    <div className="check">
      <input id={id} name={name} type="checkbox" defaultChecked={defaultChecked} aria-describedby={hintId} />
      <div>
        <label htmlFor={id} className="check__label">
          {label}
        </label>
        {hint ? (
          <p className="field__hint" id={hintId}>
            {hint}
          </p>
        ) : null}
      </div>
    </div>
  );
}
