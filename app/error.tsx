"use client";

// The last resort when a page fails to render: say so plainly and offer the one thing that might help.
export default function ErrorPage({ reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <main id="main" className="page">
      <div className="card message-card" role="alert">
        <h1>Something went wrong</h1>
        <p>This page could not be shown. Nothing was changed. Try again; if it keeps failing, contact support.</p>
        <div>
          <button type="button" className="button button--primary" onClick={reset}>
            Try again
          </button>
        </div>
      </div>
    </main>
  );
}
