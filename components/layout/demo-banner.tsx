export function DemoBanner() {
  return (
    <div className="demo-banner" role="note">
      <strong>Demo mode</strong> — sample organisations and accounts with a shared password. Configure an identity
      provider before real use.
    </div>
  );
}
