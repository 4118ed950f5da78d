import { describe, expect, it } from "vitest";
import { checkRequestHost, isAllowedHost } from "@/lib/auth/host-check";
import { parseConfig } from "@/lib/config";

const headers = (values: Record<string, string>) => new Headers(values);

describe("the request's Host", () => {
  const local = parseConfig({ PORT: "3261" });

  it.each(["127.0.0.1:3261", "localhost:3261", "LOCALHOST:3261", "[::1]:3261", "127.0.0.1", "localhost:8080"])(
    "on a loopback HOST, this machine's name %s is answered",
    (host) => {
      expect(checkRequestHost(headers({ host }), local)).toEqual({ ok: true, dropForwardedHeaders: true });
    },
  );

  it.each([
    "evil.test",
    "evil.test:3261",
    "127.0.0.1.evil.test:3261",
    "localhost.evil.test",
    "127.0.0.2:3261",
    "[::2]:3261",
    "0.0.0.0:3261",
    "",
    "127.0.0.1:3261, evil.test",
    "127.0.0.1:3261/evil",
    "user@127.0.0.1:3261",
    "127.0.0.1:99999",
  ])("refuses Host %j with 421 and a short plain message", (host) => {
    const decision = checkRequestHost(headers(host ? { host } : {}), local);
    expect(decision).toMatchObject({ ok: false, status: 421 });
    expect(!decision.ok && decision.body).toMatch(/^Misdirected request/);
  });

  it("answers AUTH_URL's host (on its port, if it names one) and ALLOWED_HOSTS', and nothing else", () => {
    const deployed = parseConfig({
      AUTH_GITHUB_ID: "id",
      AUTH_GITHUB_SECRET: "secret",
      AUTH_URL: "https://gitar.example.test",
      ALLOWED_HOSTS: "gitar.internal:3000,10.0.0.5",
    });
    for (const host of ["gitar.example.test", "GITAR.example.test", "gitar.example.test:443", "gitar.internal:3000", "10.0.0.5", "10.0.0.5:3000"]) {
      expect(isAllowedHost(host, deployed.allowedHosts)).toBe(true);
    }
    for (const host of ["gitar.internal", "gitar.internal:3001", "localhost:3000", "127.0.0.1:3000", "evil.test", "example.test"]) {
      expect(isAllowedHost(host, deployed.allowedHosts)).toBe(false);
    }
    const withPort = parseConfig({ AUTH_GITHUB_ID: "id", AUTH_GITHUB_SECRET: "secret", AUTH_URL: "https://gitar.internal:8080" });
    expect(isAllowedHost("gitar.internal:8080", withPort.allowedHosts)).toBe(true);
    expect(isAllowedHost("gitar.internal:8081", withPort.allowedHosts)).toBe(false);
    expect(isAllowedHost("gitar.internal", withPort.allowedHosts)).toBe(false);
  });

  it("drops X-Forwarded-* unless TRUST_PROXY; with it, X-Forwarded-Host must be allowed too", () => {
    expect(checkRequestHost(headers({ host: "localhost:3261", "x-forwarded-host": "evil.test" }), local)).toEqual({ ok: true, dropForwardedHeaders: true });
    const trusting = parseConfig({ PORT: "3261", TRUST_PROXY: "true", ALLOWED_HOSTS: "gitar.example.test" });
    expect(checkRequestHost(headers({ host: "127.0.0.1:3261", "x-forwarded-host": "gitar.example.test" }), trusting)).toEqual({
      ok: true,
      dropForwardedHeaders: false,
    });
    expect(checkRequestHost(headers({ host: "127.0.0.1:3261", "x-forwarded-host": "evil.test" }), trusting)).toMatchObject({ ok: false, status: 421 });
    expect(checkRequestHost(headers({ host: "evil.test", "x-forwarded-host": "gitar.example.test" }), trusting)).toMatchObject({ ok: false, status: 421 });
  });
});
