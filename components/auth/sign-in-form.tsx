"use client";

import { useActionState } from "react";
import { Alert } from "@/components/ui/alert";
import { SubmitButton } from "@/components/ui/submit-button";
import { TextField } from "@/components/ui/text-field";

export type SignInState = { status: "idle" } | { status: "error"; message: string };
export type SignInAction = (previous: SignInState, formData: FormData) => Promise<SignInState>;

export function SignInForm({ action, callbackUrl }: { action: SignInAction; callbackUrl: string }) {
  const [state, formAction] = useActionState<SignInState, FormData>(action, { status: "idle" });
  const error = state.status === "error" ? state.message : undefined;
  return (
    <form action={formAction} className="form" noValidate>
      <input type="hidden" name="callbackUrl" value={callbackUrl} />
      <TextField id="email" name="email" type="email" label="Email" autoComplete="username" required describedBy={error ? ["sign-in-error"] : []} aria-invalid={error ? true : undefined} />
      <TextField id="password" name="password" type="password" label="Password" autoComplete="current-password" required describedBy={error ? ["sign-in-error"] : []} aria-invalid={error ? true : undefined} />
      <div aria-live="assertive">
        {error ? (
          <Alert tone="error" id="sign-in-error" role="alert">
            <p>{error}</p>
          </Alert>
        ) : null}
      </div>
      <SubmitButton pendingLabel="Signing in…">Sign in</SubmitButton>
    </form>
  );
}
