export type AlertTone = "error" | "warning" | "success" | "info";

type AlertProps = {
  tone: AlertTone;
  title?: string;
  id?: string;
  /** "alert" interrupts a screen reader; "status" waits its turn. Omit for text present on page load. */
  role?: "alert" | "status";
  children?: React.ReactNode;
};

export function Alert({ tone, title, id, role, children }: AlertProps) {
  return (
    <div className={`alert alert--${tone}`} id={id} role={role}>
      {title ? <p className="alert__title">{title}</p> : null}
      {children}
    </div>
  );
}
