import { describe, expect, it } from "vitest";
import { parseAddEndpoint } from "@/lib/notifications/form-input";
import { checkEndpointUrl, isPublicAddress } from "@/lib/notifications/ssrf-guard";

describe("isPublicAddress", () => {
  it.each([
    "127.0.0.1",
    "127.255.0.9",
    "10.0.0.1",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.0.1",
    "169.254.169.254",
    "100.100.100.200",
    "0.0.0.0",
    "224.0.0.1",
    "255.255.255.255",
    "::",
    "::1",
    "fd00:ec2::254",
    "fc00::1",
    "fe80::1",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:7f00:1",
    "::ffff:10.0.0.1",
    "64:ff9b::a9fe:a9fe",
    "2002:7f00:1::1",
    "not an address",
  ])("refuses %s", (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each(["93.184.215.14", "1.1.1.1", "172.32.0.1", "2606:4700:4700::1111", "::ffff:93.184.215.14"])("allows %s", (address) => {
    expect(isPublicAddress(address)).toBe(true);
  });
});

describe("checkEndpointUrl", () => {
  it("wants https:// unless private networks are allowed", () => {
    expect(checkEndpointUrl("https://hooks.example.com/x", false)).toMatchObject({ ok: true });
    expect(checkEndpointUrl("http://hooks.example.com/x", false)).toEqual({ ok: false, problem: "scheme" });
    expect(checkEndpointUrl("http://hooks.example.com/x", true)).toMatchObject({ ok: true });
    expect(checkEndpointUrl("ftp://hooks.example.com/x", true)).toEqual({ ok: false, problem: "scheme" });
  });

  it("refuses credentials in the URL, and literal private addresses", () => {
    expect(checkEndpointUrl("https://user:pass@hooks.example.com/", false)).toEqual({ ok: false, problem: "credentials" });
    expect(checkEndpointUrl("https://10.0.0.1/", false)).toEqual({ ok: false, problem: "private_address" });
    expect(checkEndpointUrl("https://[::1]/", false)).toEqual({ ok: false, problem: "private_address" });
    expect(checkEndpointUrl("https://10.0.0.1/", true)).toMatchObject({ ok: true });
    expect(checkEndpointUrl("nonsense", false)).toEqual({ ok: false, problem: "invalid" });
  });
});

describe("the Add endpoint form", () => {
  const form = (url: string, events: string[] = ["connection.needs_attention"]) => {
    const data = new FormData();
    data.set("url", url);
    for (const event of events) data.append("events", event);
    return data;
  };

  it("says what is wrong, and keeps what was typed", () => {
    expect(parseAddEndpoint(form(""), false)).toMatchObject({ ok: false, field: "url", message: expect.stringContaining("Endpoint URL") });
    expect(parseAddEndpoint(form("http://hooks.example.com"), false)).toMatchObject({ ok: false, field: "url", message: expect.stringContaining("https://") });
    expect(parseAddEndpoint(form("https://169.254.169.254/"), false)).toMatchObject({ ok: false, field: "url", message: expect.stringContaining("private network") });
    // Found by the fuzzing in tests/reliability/bad-input.test.ts: localhost is loopback by definition (RFC 6761).
    for (const name of ["https://localhost", "https://LOCALHOST./x", "https://api.localhost:8443/"]) {
      expect(parseAddEndpoint(form(name), false), name).toMatchObject({ ok: false, field: "url", message: expect.stringContaining("private network") });
    }
    expect(parseAddEndpoint(form("https://localhost.example.com"), false)).toMatchObject({ ok: true });
    expect(parseAddEndpoint(form("http://localhost:4000/hook"), true)).toMatchObject({ ok: true });
    expect(parseAddEndpoint(form("https://hooks.example.com", []), false)).toMatchObject({ ok: false, field: "events", values: { url: "https://hooks.example.com" } });
    expect(parseAddEndpoint(form("https://hooks.example.com", ["connection.everything"]), false)).toMatchObject({ ok: false, field: "events" });
  });

  it("accepts a public https URL and the chosen events", () => {
    expect(parseAddEndpoint(form("  https://hooks.example.com/gitar ", ["connection.recovered", "connection.connected"]), false)).toEqual({
      ok: true,
      input: { url: "https://hooks.example.com/gitar", events: ["connection.recovered", "connection.connected"] },
    });
  });
});
