/** Where to go after signing in: only a path on this site, never another origin (`//evil.test` included). */
export const DEFAULT_AFTER_SIGN_IN = "/settings/integrations";

export function safeCallbackPath(value: unknown): string {
  return typeof value === "string" && value.startsWith("/") && !value.startsWith("//") ? value : DEFAULT_AFTER_SIGN_IN;
}
