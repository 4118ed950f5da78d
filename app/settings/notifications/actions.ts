"use server";

import { revalidatePath } from "next/cache";
import { adminAction } from "@/lib/actions/admin-action";
import { personActor } from "@/lib/audit/actor";
import type { AuditAction } from "@/lib/audit/events";
import type { Membership } from "@/lib/auth/membership";
import { defaultNotificationDependencies } from "@/lib/notifications/dependencies";
import {
  createEndpoint,
  deleteEndpoint,
  rollEndpointSecret,
  sendTestEvent,
  setEmailEnabled,
  setEndpointEnabled,
  type EndpointFailure,
} from "@/lib/notifications/endpoints";
import { parseAddEndpoint, parseEndpointId, type AddEndpointInput } from "@/lib/notifications/form-input";
import {
  ENDPOINT_NOT_FOUND,
  refusedState,
  tooManyEndpoints,
  UNEXPECTED,
  type AddEndpointFormState,
  type EmailPreferenceFormState,
  type EndpointFormState,
} from "@/lib/notifications/form-state";

// The Notifications page's server actions. Each is a public POST endpoint: adminAction checks the caller first, on
// every call, and audits a member's refused attempt. A new signing secret goes back in its action's response only:
// adminAction logs the status, never the state.

const PAGE = "/settings/notifications";
const NEEDS_ADMIN_TO = "manage notifications";

const failureState = (failure: EndpointFailure) => (failure.code === "not_found" ? ENDPOINT_NOT_FOUND : tooManyEndpoints(failure.max));

export const addEndpointAction = adminAction<AddEndpointInput, AddEndpointFormState>({
  action: "webhook.create",
  needsAdminTo: NEEDS_ADMIN_TO,
  parse(formData) {
    const parsed = parseAddEndpoint(formData, defaultNotificationDependencies().allowPrivateNetworks);
    if (parsed.ok) return parsed;
    return { ok: false, state: { status: "invalid", field: parsed.field, message: parsed.message, values: parsed.values } };
  },
  async run(input, caller) {
    const result = await createEndpoint(defaultNotificationDependencies(), { organizationId: caller.organizationId, actor: personActor(caller), ...input });
    revalidatePath(PAGE);
    if (!result.ok) return failureState(result.failure);
    return { status: "created", endpointId: result.endpointId, url: input.url, secret: result.secret };
  },
  refused: refusedState,
  unexpected: UNEXPECTED,
});

/** The per-endpoint buttons: each its own audited action, all read the endpoint id the same way. */
function endpointAction(action: AuditAction, run: (endpointId: string, caller: Membership) => Promise<EndpointFormState>) {
  return adminAction<{ endpointId: string | null }, EndpointFormState>({
    action,
    needsAdminTo: NEEDS_ADMIN_TO,
    parse: (formData) => ({ ok: true, input: { endpointId: parseEndpointId(formData) } }),
    async run({ endpointId }, caller) {
      if (endpointId === null) return ENDPOINT_NOT_FOUND;
      const state = await run(endpointId, caller);
      revalidatePath(PAGE);
      return state;
    },
    refused: refusedState,
    unexpected: UNEXPECTED,
  });
}

const subject = (endpointId: string, caller: Membership) => ({ organizationId: caller.organizationId, actor: personActor(caller), endpointId });

export const sendTestEventAction = endpointAction("webhook.test", async (endpointId, caller) => {
  const result = await sendTestEvent(defaultNotificationDependencies(), subject(endpointId, caller));
  if (!result.ok) return failureState(result.failure);
  return { status: "done", message: `Test event queued for ${result.host}. It appears in the delivery log below within a few seconds.` };
});

export const disableEndpointAction = endpointAction("webhook.disable", async (endpointId, caller) => {
  const result = await setEndpointEnabled(defaultNotificationDependencies(), { ...subject(endpointId, caller), enabled: false });
  if (!result.ok) return failureState(result.failure);
  return { status: "done", message: `Endpoint ${result.host} disabled. It gets no events until you enable it again.` };
});

export const enableEndpointAction = endpointAction("webhook.enable", async (endpointId, caller) => {
  const result = await setEndpointEnabled(defaultNotificationDependencies(), { ...subject(endpointId, caller), enabled: true });
  if (!result.ok) return failureState(result.failure);
  return { status: "done", message: `Endpoint ${result.host} enabled. New events are sent to it again.` };
});

export const deleteEndpointAction = endpointAction("webhook.delete", async (endpointId, caller) => {
  const result = await deleteEndpoint(defaultNotificationDependencies(), subject(endpointId, caller));
  if (!result.ok) return failureState(result.failure);
  return { status: "done", message: `Endpoint ${result.host} deleted, with its delivery log.` };
});

export const rollSecretAction = endpointAction("webhook.roll_secret", async (endpointId, caller) => {
  const result = await rollEndpointSecret(defaultNotificationDependencies(), subject(endpointId, caller));
  if (!result.ok) return failureState(result.failure);
  return { status: "rolled", secret: result.secret, previousValidUntil: result.previousValidUntil };
});

export const setEmailPreferenceAction = adminAction<{ enabled: boolean }, EmailPreferenceFormState>({
  action: "notifications.email",
  needsAdminTo: NEEDS_ADMIN_TO,
  parse: (formData) => ({ ok: true, input: { enabled: formData.get("emailEnabled") === "on" } }),
  async run({ enabled }, caller) {
    await setEmailEnabled(defaultNotificationDependencies(), { organizationId: caller.organizationId, actor: personActor(caller), userId: caller.userId, enabled });
    revalidatePath(PAGE);
    return { status: "saved", enabled };
  },
  refused: refusedState,
  unexpected: UNEXPECTED,
});
