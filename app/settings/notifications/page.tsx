import type { Metadata } from "next";
import { AdminsOnly } from "@/components/layout/admins-only";
import { SettingsNav } from "@/components/layout/settings-nav";
import { AddEndpointForm } from "@/components/notifications/add-endpoint-form";
import { EmailPreference } from "@/components/notifications/email-preference";
import { EndpointCard } from "@/components/notifications/endpoint-card";
import { RefreshWhilePending } from "@/components/notifications/refresh-while-pending";
import { membershipOrSignIn } from "@/lib/auth/membership";
import { getConfig } from "@/lib/config";
import { getDb } from "@/lib/db/client";
import { deliveriesDueSoon, emailEnabledFor, listEndpointsForDisplay } from "@/lib/notifications/endpoint-view";
import {
  addEndpointAction,
  deleteEndpointAction,
  disableEndpointAction,
  enableEndpointAction,
  rollSecretAction,
  sendTestEventAction,
  setEmailPreferenceAction,
} from "./actions";

export const metadata: Metadata = { title: "Notifications" };

const ACTIONS = {
  sendTest: sendTestEventAction,
  disable: disableEndpointAction,
  enable: enableEndpointAction,
  roll: rollSecretAction,
  remove: deleteEndpointAction,
};

export default async function NotificationsPage() {
  const membership = await membershipOrSignIn("/settings/notifications");
  if (membership.role !== "admin") {
    return <AdminsOnly current="notifications" title="Notifications" organizationName={membership.organizationName} only="manage notifications" />;
  }

  const { notifications } = getConfig();
  const db = getDb();
  const [endpoints, emailEnabled] = await Promise.all([
    listEndpointsForDisplay(db, membership.organizationId),
    emailEnabledFor(db, membership.userId, membership.organizationId),
  ]);
  const pending = deliveriesDueSoon(endpoints);

  return (
    <div className="stack">
      <SettingsNav current="notifications" isAdmin />
      <RefreshWhilePending pending={pending} />
      <div className="page__header">
        <p className="breadcrumb">Settings</p>
        <h1>Notifications</h1>
        <p className="page__lead">
          Hear about it where you work when the Buildkite connection of {membership.organizationName} changes: signed webhooks to your own
          endpoints, and email to admins when something needs fixing.
        </p>
      </div>

      <section className="card" aria-labelledby="notifications-email-title">
        <div className="card__body stack">
          <h2 id="notifications-email-title">Email</h2>
          {notifications.smtpUrl ? (
            <EmailPreference enabled={emailEnabled} action={setEmailPreferenceAction} />
          ) : (
            <p className="muted">
              Email is not configured on this server, so no notification emails are sent. An operator turns them on by setting{" "}
              <code>SMTP_URL</code>.
            </p>
          )}
        </div>
      </section>

      <section className="card" aria-labelledby="endpoint-add-title">
        <div className="card__body stack">
          <h2 id="endpoint-add-title">Add a webhook endpoint</h2>
          <p className="muted">
            Every event is a JSON <code>POST</code> signed in its <code>Gitar-Signature</code> header, with a <code>Gitar-Delivery</code> id to
            drop duplicates by. The README shows how to verify it.
          </p>
          <AddEndpointForm action={addEndpointAction} allowPrivateNetworks={notifications.allowPrivateNetworks} />
        </div>
      </section>

      <section className="notifications-list" aria-labelledby="endpoints-title">
        <h2 id="endpoints-title">Endpoints</h2>
        {endpoints.length === 0 ? <p className="muted">No endpoints yet. Add one above.</p> : null}
        {endpoints.map((endpoint) => (
          <EndpointCard key={endpoint.id} endpoint={endpoint} actions={ACTIONS} />
        ))}
      </section>
    </div>
  );
}
