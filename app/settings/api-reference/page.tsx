/*
 * The API reference: the OpenAPI document (/api/v1/openapi.json) rendered on the server by components/api-reference,
 * with no client JavaScript of its own. Scalar (@scalar/api-reference-react) was tried first, in this app, offline:
 *
 * - Offline: with `withDefaultFonts: false`, `telemetry: false`, agent, MCP and developer tools off, it made no request
 *   off the machine. Its bundle still carries Scalar's cloud: the default proxy (proxy.scalar.com), the agent chat and
 *   a developer toolbar that uploads the document to api.scalar.com, shown by default on localhost. Each is off only
 *   while a configuration option stays set.
 * - Headers: under the planned policy (`default-src 'self'; script-src 'nonce-…' 'strict-dynamic'`) it injects inline
 *   <style> elements and style attributes (style-src-elem and style-src-attr violations on every load) and calls
 *   `Function("")` as an eval check (a script-src violation). It renders, but only `style-src 'unsafe-inline'` silences
 *   the violations, which loosens the policy for the whole app.
 * - Cost: with Scalar, this page loaded 4.0 MiB of JavaScript (1.2 MiB gzipped, 17 scripts). The Integrations page
 *   loads 0.47 MiB (140 KiB gzipped), and this page now loads 0.46 MiB (136 KiB gzipped), only what every page loads.
 *   Scalar also added 253 npm packages (about 300 MB in node_modules). Its newest wrapper (0.9.83) cannot be installed
 *   from the registry, because a dependency version is missing there; 0.9.74 installs, but needs Node >= 22.
 * - Looks and access: it shows its own design inside ours, with its own search, sidebar and "Powered by Scalar". axe
 *   fails it on two rules, at 56 elements (4 buttons without a name, 52 contrast failures).
 *
 * Scalar does more than this page: a request console, and code samples in many languages. It does not do this job
 * better here. The document is small (6 operations, 10 schemas), and about 700 lines of our own render it in the
 * app's design, under any CSP, with no JavaScript of their own. So, following "add a dependency only when a library
 * does the job better than code of ours", we don't add it.
 */
import type { Metadata } from "next";
import { ApiReference } from "@/components/api-reference/api-reference";
import { referenceView } from "@/components/api-reference/reference-model";
import { AdminsOnly } from "@/components/layout/admins-only";
import { SettingsNav } from "@/components/layout/settings-nav";
import { openApiDocument } from "@/lib/api/openapi";
import { API_KEY_PREFIX } from "@/lib/api-keys/key-format";
import { membershipOrSignIn } from "@/lib/auth/membership";
import { getConfig } from "@/lib/config";

export const metadata: Metadata = { title: "API reference" };

const DOCUMENT_URL = "/api/v1/openapi.json";

export default async function ApiReferencePage() {
  const membership = await membershipOrSignIn("/settings/api-reference");
  if (membership.role !== "admin") {
    return <AdminsOnly current="api-reference" title="API reference" organizationName={membership.organizationName} only="see the API reference" />;
  }

  const reference = referenceView(openApiDocument());
  const limits = getConfig().apiRateLimits;
  return (
    <div className="stack">
      <SettingsNav current="api-reference" isAdmin />
      <div className="page__header">
        <p className="breadcrumb">Settings</p>
        <h1>API reference</h1>
        <p className="page__lead">
          The operations of the Integrations page and the audit log, for scripts and automation. They run the same checks,
          change one thing at a time and answer with the same messages. {reference.title}, version {reference.version}.
        </p>
      </div>

      <section className="card" aria-labelledby="api-start-title">
        <div className="card__body apiref-start">
          <h2 id="api-start-title">Getting started</h2>
          <div className="apiref-start__grid">
            <div className="apiref-start__item">
              <h3>Authentication</h3>
              <p>
                Create a key under <a href="/settings/api-keys">Settings → API keys</a>. It is shown once, so keep it in your
                secret store. Send it with every request as <code>Authorization: Bearer {API_KEY_PREFIX}…</code>. A key acts
                only within {membership.organizationName}, and every call it makes is recorded in the{" "}
                <a href="/settings/audit">audit log</a> under its name.
              </p>
            </div>
            <div className="apiref-start__item">
              <h3>Your organisation’s id</h3>
              <p>
                <code className="apiref-copyable">{membership.organizationId}</code>
              </p>
              <p className="muted">
                The <code>{"{organizationId}"}</code> in every path below, for {membership.organizationName}.
              </p>
            </div>
            <div className="apiref-start__item">
              <h3>The OpenAPI document</h3>
              <p>
                <a href={DOCUMENT_URL}>{DOCUMENT_URL}</a>: OpenAPI {reference.openapi}, for code generators and API tools.
                This page is made from it.
              </p>
            </div>
            <div className="apiref-start__item">
              <h3>Limits and retries</h3>
              <p>
                Up to {limits.perCaller} requests a minute per key and {limits.perOrganization} per organisation, beyond
                which the answer is <code>429</code> with <code>Retry-After</code>. Send an <code>Idempotency-Key</code> with{" "}
                <code>PUT</code> and <code>DELETE</code> to retry them safely. Responses are never cached (
                <code>Cache-Control: no-store</code>).
              </p>
            </div>
          </div>
        </div>
      </section>

      <ApiReference reference={reference} />
    </div>
  );
}
