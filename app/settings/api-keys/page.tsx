import type { Metadata } from "next";
import { ApiKeysTable } from "@/components/api-keys/api-keys-table";
import { CreateApiKeyForm } from "@/components/api-keys/create-api-key-form";
import { AdminsOnly } from "@/components/layout/admins-only";
import { SettingsNav } from "@/components/layout/settings-nav";
import { listApiKeys } from "@/lib/api-keys/api-keys";
import { API_KEY_PREFIX } from "@/lib/api-keys/key-format";
import { membershipOrSignIn } from "@/lib/auth/membership";
import { getDb } from "@/lib/db/client";
import { createApiKeyAction, revokeApiKeyAction } from "./actions";

export const metadata: Metadata = { title: "API keys" };

const LIST_HEADING_ID = "api-keys-list-title";

export default async function ApiKeysPage() {
  const membership = await membershipOrSignIn("/settings/api-keys");
  if (membership.role !== "admin") {
    return <AdminsOnly current="api-keys" title="API keys" organizationName={membership.organizationName} only="manage API keys" />;
  }

  const keys = await listApiKeys(getDb(), membership.organizationId);
  return (
    <div className="stack">
      <SettingsNav current="api-keys" isAdmin />
      <div className="page__header">
        <p className="breadcrumb">Settings</p>
        <h1>API keys</h1>
        <p className="page__lead">
          Keys let scripts and automation call Gitar’s API. A key acts only within {membership.organizationName}, and can
          do there whatever an admin can do through the API. It is shown only once, when you create it: keep it in your
          secret store.
        </p>
      </div>
      <section className="card" aria-labelledby="api-key-create-title">
        <div className="card__body api-keys-create">
          <div className="api-keys-create__intro">
            <h2 id="api-key-create-title">Create an API key</h2>
            <p className="muted">
              Scripts send it to <code>/api/v1</code> as <code>Authorization: Bearer {API_KEY_PREFIX}…</code>
            </p>
          </div>
          <CreateApiKeyForm action={createApiKeyAction} />
        </div>
      </section>
      <section className="api-keys-list" aria-labelledby={LIST_HEADING_ID}>
        <h2 id={LIST_HEADING_ID} tabIndex={-1}>
          Keys of {membership.organizationName}
        </h2>
        <ApiKeysTable keys={keys} revokeAction={revokeApiKeyAction} headingId={LIST_HEADING_ID} />
      </section>
    </div>
  );
}
