export function Card({ children, labelledBy, className }: { children: React.ReactNode; labelledBy?: string; className?: string }) {
  return (
    <section className={["card", className].filter(Boolean).join(" ")} aria-labelledby={labelledBy}>
      {children}
    </section>
  );
}
