// The states the Notifications page's forms render: discriminated unions on `status`. Messages and public facts
// only; the one exception is a signing secret, in the response of the action that made it and nowhere else.

type CommonState =
  | { status: "idle" }
  | { status: "refused"; message: string }
  | { status: "error"; code: string; title: string; message: string };

export type AddEndpointFormState =
  | CommonState
  | { status: "invalid"; field: "url" | "events"; message: string; values: { url: string; events: string[] } }
  /** Shown once, then gone: the page can never read the secret again. */
  | { status: "created"; endpointId: string; url: string; secret: string };

export type EndpointFormState =
  | CommonState
  | { status: "done"; message: string }
  | { status: "rolled"; secret: string; previousValidUntil: string };

export type EmailPreferenceFormState = CommonState | { status: "saved"; enabled: boolean };

export const IDLE = { status: "idle" } as const;

export const refusedState = (message: string) => ({ status: "refused" as const, message });

export const UNEXPECTED = {
  status: "error" as const,
  code: "unexpected",
  title: "Something went wrong on our side",
  message: "Nothing was changed. Try again in a moment; if it keeps happening, an operator can find the details in the server log.",
};

export const ENDPOINT_NOT_FOUND = {
  status: "error" as const,
  code: "not_found",
  title: "This endpoint no longer exists",
  message: "Someone may have just deleted it. Reload the page to see the endpoints as they are now.",
};

export const tooManyEndpoints = (max: number) => ({
  status: "error" as const,
  code: "too_many_endpoints",
  title: "This organisation has the most endpoints allowed",
  message: `An organisation can have up to ${max} endpoints. Delete one you no longer use, then add this one. Nothing was changed.`,
});
