import { describe, expect, it } from "vitest";
import { DEFAULT_AFTER_SIGN_IN, safeCallbackPath, safeRedirectUrl } from "@/lib/auth/callback-url";

describe("safeCallbackPath", () => {
  it.each([
    "/settings/integrations",
    "/settings/audit",
    "/settings/audit?action=connect",
    "/settings/audit?action=rotate&page=2",
    "/settings/api-keys",
    "/settings/api-reference",
  ])("keeps the in-app path %s", (path) => {
    expect(safeCallbackPath(path)).toBe(path);
  });

  // Each of these leaves the site in some browser, or is not one of the app's pages.
  it.each([
    // backslashes: browsers read "\" as "/" in http(s) URLs, so "/\evil.test" is "//evil.test"
    "/\\evil.test",
    "\\\\evil.test",
    "/\\/evil.test",
    "/settings/integrations\\..\\..\\\\evil.test",
    // tabs and newlines are stripped by the URL parser: "/\t/evil.test" is "//evil.test"
    "/\t/evil.test",
    "/\n/evil.test",
    "/\r\n/evil.test",
    " //evil.test",
    "/settings/integrations\t",
    // protocol-relative and its spellings
    "//evil.test",
    "///evil.test",
    "//evil.test/settings/integrations",
    // encoded variants, in case something decodes once more on the way
    "/%09/evil.test",
    "/%5Cevil.test",
    "/%5cevil.test",
    "/%2F%2Fevil.test",
    "%2F%2Fevil.test",
    "/%252F%252Fevil.test",
    "/settings/integrations/..%2F..%2F%2Fevil.test",
    "/settings/../%2F%2Fevil.test",
    // other schemes and absolute URLs
    "javascript:alert(1)",
    "JavaScript:alert(document.cookie)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "http://evil.test",
    "https://evil.test/settings/integrations",
    "http:evil.test",
    "http:/evil.test",
    "https:\\\\evil.test",
    // userinfo tricks
    "/@evil.test",
    "//user@evil.test",
    "/settings/integrations@evil.test",
    "http://127.0.0.1:3000@evil.test/",
    // paths that are not the app's pages, or that only start like one
    "",
    "/",
    "settings/integrations",
    "/settings",
    "/settings/integrations/extra",
    "/settings/integrationsevil",
    "/settings/integrations/../../api/auth/signout",
    "/settings/integrations#//evil.test",
    "/settings/audit?next=//evil.test\\",
    "/settings/audit?<script>",
    "/sign-in",
    "/api/auth/signout",
    `/settings/audit?${"a".repeat(600)}`,
  ])("falls back to the integrations page for %j", (value) => {
    expect(safeCallbackPath(value)).toBe(DEFAULT_AFTER_SIGN_IN);
  });

  it.each([undefined, null, 42, ["/settings/audit"], { toString: () => "/settings/audit" }])("falls back for a non-string (%j)", (value) => {
    expect(safeCallbackPath(value)).toBe(DEFAULT_AFTER_SIGN_IN);
  });

  it("always answers a path this site serves, as the browser would resolve it", () => {
    for (const value of ["/\\evil.test", "/\t/evil.test", "//evil.test", "/settings/audit?x=1"]) {
      const resolved = new URL(safeCallbackPath(value), "http://127.0.0.1:3000");
      expect(resolved.origin).toBe("http://127.0.0.1:3000");
    }
  });
});

describe("safeRedirectUrl (Auth.js's redirect callback)", () => {
  const base = "http://127.0.0.1:3000";

  it.each([
    ["/settings/audit?action=connect", `${base}/settings/audit?action=connect`],
    [`${base}/settings/api-keys`, `${base}/settings/api-keys`],
    ["/sign-in", `${base}/sign-in`],
    [`${base}/sign-in`, `${base}/sign-in`],
  ])("keeps %s on this site", (url, expected) => {
    expect(safeRedirectUrl(url, base)).toBe(expected);
  });

  it.each([
    "http://evil.test/settings/integrations",
    "https://127.0.0.1:3000/settings/audit",
    "http://127.0.0.1:3001/settings/audit",
    "http://127.0.0.1:3000.evil.test/settings/audit",
    "/\\evil.test",
    "/\t/evil.test",
    "//evil.test",
    "javascript:alert(1)",
    `${base}//evil.test`,
    `${base}/\\evil.test`,
    `${base}/api/auth/signout`,
    "/sign-in?callbackUrl=//evil.test",
  ])("sends %j to the integrations page of this site", (url) => {
    expect(safeRedirectUrl(url, base)).toBe(`${base}${DEFAULT_AFTER_SIGN_IN}`);
  });
});
