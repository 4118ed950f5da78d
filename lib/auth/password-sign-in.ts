import type { SignInThrottle } from "./sign-in-throttle";
import type { SignedInUser } from "./users";

/**
 * One password sign-in attempt: counted first (sign-in-throttle.ts), then checked; a right password gives the
 * attempt back and starts the account's count afresh.
 */
export type PasswordSignInResult =
  | { ok: true; user: SignedInUser }
  | { ok: false; reason: "invalid" }
  | { ok: false; reason: "throttled"; retryAfterSeconds: number };

export async function attemptPasswordSignIn(
  attempt: { email: string; password: string; address: string | null },
  deps: { throttle: SignInThrottle; findUserByPassword(email: string, password: string): Promise<SignedInUser | null> },
): Promise<PasswordSignInResult> {
  const allowed = await deps.throttle.attempt(attempt.email, attempt.address);
  if (!allowed.ok) return { ok: false, reason: "throttled", retryAfterSeconds: allowed.retryAfterSeconds };
  const user = await deps.findUserByPassword(attempt.email, attempt.password);
  if (!user) return { ok: false, reason: "invalid" };
  await deps.throttle.succeeded(attempt.email, attempt.address);
  return { ok: true, user };
}
