"use server";

import { revalidatePath } from "next/cache";
import { adminAction } from "@/lib/actions/admin-action";
import { createApiKey, revokeApiKey } from "@/lib/api-keys/api-keys";
import { personActor } from "@/lib/audit/actor";
import { getDb } from "@/lib/db/client";
import {
  ALREADY_REVOKED,
  KEY_NOT_FOUND,
  refusedState,
  UNEXPECTED_CREATE,
  UNEXPECTED_REVOKE,
  type CreateApiKeyFormState,
  type RevokeApiKeyFormState,
} from "@/lib/api-keys/form-state";
import { parseCreateApiKey, parseKeyId, type CreateApiKeyInput } from "@/lib/api-keys/form-input";

// The API keys page's server actions. Each is a public POST endpoint: adminAction checks the caller first, and
// audits a member's refused attempt. The new key goes back in the create action's response and nowhere else: not
// in a log line (adminAction logs the status only), not in the URL, not in the page the revalidation re-renders.

const API_KEYS = "/settings/api-keys";

export const createApiKeyAction = adminAction<CreateApiKeyInput, CreateApiKeyFormState>({
  action: "api_key.create",
  needsAdminTo: "manage API keys",
  parse(formData) {
    const parsed = parseCreateApiKey(formData);
    if (parsed.ok) return parsed;
    return { ok: false, state: { status: "invalid", field: parsed.field, message: parsed.message, values: parsed.values } };
  },
  async run(input, caller) {
    const created = await createApiKey(getDb(), {
      organizationId: caller.organizationId,
      actor: personActor(caller),
      name: input.name,
      expiresAt: input.expiresAt,
    });
    revalidatePath(API_KEYS);
    return { status: "created", key: created.key, name: input.name, expiresAt: input.expiresAt?.toISOString() ?? null };
  },
  refused: refusedState,
  unexpected: UNEXPECTED_CREATE,
});

export const revokeApiKeyAction = adminAction<{ keyId: string | null }, RevokeApiKeyFormState>({
  action: "api_key.revoke",
  needsAdminTo: "manage API keys",
  // An id that cannot be a key's is answered like a key of another organisation: it does not exist, for this caller.
  parse: (formData) => ({ ok: true, input: { keyId: parseKeyId(formData) } }),
  async run({ keyId }, caller) {
    if (keyId === null) return KEY_NOT_FOUND;
    const result = await revokeApiKey(getDb(), { organizationId: caller.organizationId, actor: personActor(caller), keyId });
    // Whatever the outcome, the list may have been out of date: show the keys as they are now.
    revalidatePath(API_KEYS);
    if (result.ok) return { status: "revoked", name: result.name };
    return result.reason === "not_found" ? KEY_NOT_FOUND : ALREADY_REVOKED;
  },
  refused: refusedState,
  unexpected: UNEXPECTED_REVOKE,
});
