import Link from "next/link";

export default function NotFound() {
  return (
    <main id="main" className="page">
      <div className="card" style={{ padding: 24, display: "grid", gap: 12, maxWidth: 560 }}>
        <h1>Page not found</h1>
        <p>
          There is nothing at this address. Go to <Link href="/settings/integrations">Integrations</Link>.
        </p>
      </div>
    </main>
  );
}
