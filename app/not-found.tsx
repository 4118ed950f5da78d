import Link from "next/link";

export default function NotFound() {
  return (
    <main id="main" className="page">
      <div className="card message-card">
        <h1>Page not found</h1>
        <p>
          There is nothing at this address. Go to <Link href="/settings/integrations">Integrations</Link>.
        </p>
      </div>
    </main>
  );
}
