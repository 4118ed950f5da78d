"use server";

import { AuthError } from "next-auth";
import { z } from "zod";
import type { SignInState } from "@/components/auth/sign-in-form";
import { signIn, signOut, TooManyAttemptsError } from "@/lib/auth/auth";
import { safeCallbackPath } from "@/lib/auth/callback-url";
import { tooManyAttemptsMessage } from "@/lib/auth/sign-in-throttle";

const signInSchema = z.object({
  email: z.string().trim().min(1, "Enter your email address.").max(320),
  password: z.string().min(1, "Enter your password.").max(1024),
});

export async function signInWithPasswordAction(_previous: SignInState, formData: FormData): Promise<SignInState> {
  const parsed = signInSchema.safeParse({ email: formData.get("email"), password: formData.get("password") });
  if (!parsed.success) return { status: "error", message: parsed.error.issues[0]?.message ?? "Check the form." };
  try {
    await signIn("credentials", { ...parsed.data, redirectTo: safeCallbackPath(formData.get("callbackUrl")) });
    return { status: "idle" };
  } catch (error) {
    // signIn redirects by throwing; only Auth.js's own errors mean the sign-in failed.
    if (error instanceof TooManyAttemptsError) return { status: "error", message: tooManyAttemptsMessage(error.retryAfterSeconds) };
    if (error instanceof AuthError) {
      return { status: "error", message: "That email and password do not match an account. Check them and try again." };
    }
    throw error;
  }
}

export async function signInWithProviderAction(formData: FormData) {
  const provider = formData.get("provider");
  if (provider !== "github" && provider !== "google" && provider !== "oidc") return;
  await signIn(provider, { redirectTo: safeCallbackPath(formData.get("callbackUrl")) });
}

export async function signOutAction() {
  await signOut({ redirectTo: "/sign-in" });
}
