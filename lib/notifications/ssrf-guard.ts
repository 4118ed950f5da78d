import "server-only";

import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";

/**
 * What a webhook may reach. An endpoint URL is chosen by an admin, but the request is made from inside our network:
 * without this, "https://169.254.169.254/…" or a name resolving to 10.0.0.5 would let the URL field probe it. So a
 * URL must be https://, and every address its name resolves to must be public — checked when delivering, on every
 * attempt, after resolving; the connection then goes to the address that was checked (see deliver-http.ts), so a
 * name that resolves differently a moment later (DNS rebinding) cannot swap it. Redirects are never followed.
 * WEBHOOKS_ALLOW_PRIVATE_NETWORKS=true lifts this (and allows http://) for development and tests.
 */

const blocked = new BlockList();
// IPv4: "this network", private, carrier-grade NAT (cloud metadata lives here too), loopback, link-local (the
// 169.254.169.254 metadata service), IETF and documentation ranges, benchmarking, multicast, reserved, broadcast.
for (const [network, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.88.99.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  blocked.addSubnet(network, prefix, "ipv4");
}
// IPv6: unspecified, loopback, discard, documentation, unique-local (fc00::/7, also AWS's fd00:ec2::254 metadata),
// link-local, site-local, multicast.
for (const [network, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["100::", 64],
  ["2001:db8::", 32],
  ["fc00::", 7],
  ["fe80::", 10],
  ["fec0::", 10],
  ["ff00::", 8],
] as const) {
  blocked.addSubnet(network, prefix, "ipv6");
}

/** An IPv4 address carried inside an IPv6 one (::ffff:a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16): judged as IPv4. */
function embeddedIpv4(address: string): string | null {
  const lower = address.toLowerCase();
  const dotted = /^(?:::ffff:|64:ff9b::)(\d{1,3}(?:\.\d{1,3}){3})$/.exec(lower);
  if (dotted) return dotted[1]!;
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hex) {
    const high = Number.parseInt(hex[1]!, 16);
    const low = Number.parseInt(hex[2]!, 16);
    return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
  }
  const sixToFour = /^2002:([0-9a-f]{1,4}):([0-9a-f]{1,4}):/.exec(lower);
  if (sixToFour) {
    const high = Number.parseInt(sixToFour[1]!, 16);
    const low = Number.parseInt(sixToFour[2]!, 16);
    return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
  }
  return null;
}

/** Whether a webhook may connect to this IP address (public unicast only). */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return !blocked.check(address, "ipv4");
  if (family === 6) {
    const inner = embeddedIpv4(address);
    if (inner) return isIP(inner) === 4 && !blocked.check(inner, "ipv4");
    return !blocked.check(address, "ipv6");
  }
  return false;
}

export type ResolvedAddress = { address: string; family: 4 | 6 };
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = async (hostname) => {
  const results = await lookup(hostname, { all: true, verbatim: true });
  return results.map((result) => ({ address: result.address, family: result.family === 6 ? 6 : 4 }));
};

export type UrlProblem = "invalid" | "scheme" | "credentials" | "private_address";

/** The URL's own shape (no DNS): what the form checks, and the first thing every delivery checks. */
export function checkEndpointUrl(value: string, allowPrivateNetworks: boolean): { ok: true; url: URL } | { ok: false; problem: UrlProblem } {
  if (!URL.canParse(value)) return { ok: false, problem: "invalid" };
  const url = new URL(value);
  if (url.protocol !== "https:" && !(allowPrivateNetworks && url.protocol === "http:")) return { ok: false, problem: "scheme" };
  if (url.username || url.password) return { ok: false, problem: "credentials" };
  if (!url.hostname) return { ok: false, problem: "invalid" };
  const literal = hostOf(url);
  if (!allowPrivateNetworks && isIP(literal) && !isPublicAddress(literal)) return { ok: false, problem: "private_address" };
  // "localhost" and its subdomains are loopback by definition (RFC 6761): refused now, not first at delivery.
  if (!allowPrivateNetworks && isLoopbackName(url.hostname)) return { ok: false, problem: "private_address" };
  return { ok: true, url };
}

function isLoopbackName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, "");
  return name === "localhost" || name.endsWith(".localhost");
}

/** The hostname as DNS or an IP parser wants it (IPv6 literals lose their brackets). */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, "");
}

export type Resolution = { ok: true; address: ResolvedAddress } | { ok: false; reason: "dns_failed" | "private_address" };

/**
 * The address to connect to. Every address the name has must be public (an attacker controlling a name can return
 * a public and a private one, and let the client pick): the first is used, and only it.
 */
export async function resolveForDelivery(url: URL, options: { allowPrivateNetworks: boolean; resolver?: Resolver }): Promise<Resolution> {
  const host = hostOf(url);
  const family = isIP(host);
  let addresses: ResolvedAddress[];
  if (family !== 0) {
    addresses = [{ address: host, family: family === 6 ? 6 : 4 }];
  } else {
    try {
      addresses = await (options.resolver ?? systemResolver)(host);
    } catch {
      return { ok: false, reason: "dns_failed" };
    }
  }
  if (addresses.length === 0) return { ok: false, reason: "dns_failed" };
  if (!options.allowPrivateNetworks && addresses.some((candidate) => !isPublicAddress(candidate.address))) {
    return { ok: false, reason: "private_address" };
  }
  return { ok: true, address: addresses[0]! };
}
