// The states the API keys page's two forms render: discriminated unions on `status`, built on the server from what
// lib/api-keys/api-keys.ts returns. They hold messages and public facts only. The one exception is `created.key`:
// the key itself, which exists outside its hash only in that one action response.

/** What both forms can answer besides their own outcomes. */
type CommonState =
  | { status: "idle" }
  | { status: "refused"; message: string }
  | { status: "error"; code: "unexpected"; title: string; message: string };

export type CreateApiKeyFormState =
  | CommonState
  /** `values` refills the form with what was sent, so a correction does not start from scratch. */
  | { status: "invalid"; field: "name" | "expiresIn"; message: string; values: { name: string; expiresIn: string } }
  /** Shown once, then gone: it is never stored anywhere the page can read it again. */
  | { status: "created"; key: string; name: string; expiresAt: string | null };

export type RevokeApiKeyFormState =
  | CommonState
  | { status: "error"; code: "not_found" | "already_revoked"; title: string; message: string }
  | { status: "revoked"; name: string };

export const IDLE = { status: "idle" } as const;

export const refusedState = (message: string) => ({ status: "refused" as const, message });

export const UNEXPECTED_CREATE: CreateApiKeyFormState = {
  status: "error",
  code: "unexpected",
  title: "Something went wrong on our side",
  message: "No key was created. Try again in a minute; if it keeps failing, contact support.",
};

export const UNEXPECTED_REVOKE: RevokeApiKeyFormState = {
  status: "error",
  code: "unexpected",
  title: "Something went wrong on our side",
  message: "The key was not revoked and still works. Try again in a minute; if it keeps failing, contact support.",
};

export const KEY_NOT_FOUND: RevokeApiKeyFormState = {
  status: "error",
  code: "not_found",
  title: "That key no longer exists",
  message: "It may have been removed. The list now shows the keys that exist.",
};

export const ALREADY_REVOKED: RevokeApiKeyFormState = {
  status: "error",
  code: "already_revoked",
  title: "This key is already revoked",
  message: "Someone revoked it a moment ago: it no longer works, and there is nothing more to do.",
};
