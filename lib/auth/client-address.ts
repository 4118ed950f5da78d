import { isIP } from "node:net";

/**
 * The address a sign-in attempt comes from, for counting attempts per address.
 *
 * Next gives a server action (and a route handler) no socket, only headers, and its server fills in
 * `X-Forwarded-For` with the socket's address only when the request did not bring one (`??=` in its base server).
 * So a client could name any address it likes. proxy.ts therefore drops the X-Forwarded-* headers a request
 * arrives with unless TRUST_PROXY=true; Next then fills X-Forwarded-For with the socket address, and that single
 * value is what we read here. With TRUST_PROXY=true a reverse proxy appends the address it saw to the header: we
 * take the last entry, the one the trusted proxy wrote (earlier entries are whatever the client sent).
 *
 * IPv6 addresses count per /64 (what one subscriber gets); IPv4-mapped IPv6 counts as the IPv4 address.
 */
export function clientAddressFrom(forwardedFor: string | null | undefined): string | null {
  const last = forwardedFor?.split(",").at(-1)?.trim();
  if (!last) return null;
  return addressKey(last);
}

export function addressKey(raw: string): string | null {
  const address = raw.replace(/^\[|\]$/g, "").replace(/%.*$/, "").toLowerCase();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(address);
  if (mapped) return mapped[1]!;
  const version = isIP(address);
  if (version === 4) return address;
  if (version === 6) return `${expandIPv6(address).slice(0, 4).join(":")}::/64`;
  return null;
}

function expandIPv6(address: string): string[] {
  // An embedded IPv4 tail (::1.2.3.4) is two groups.
  const withoutV4 = address.replace(/(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/, (_, a, b, c, d) =>
    [((Number(a) << 8) | Number(b)).toString(16), ((Number(c) << 8) | Number(d)).toString(16)].join(":"),
  );
  const [head = "", tail] = withoutV4.split("::");
  const headGroups = head ? head.split(":") : [];
  const tailGroups = tail ? tail.split(":") : [];
  const zeros = tail === undefined ? [] : Array(8 - headGroups.length - tailGroups.length).fill("0");
  return [...headGroups, ...zeros, ...tailGroups].map((group) => group.replace(/^0+(?=.)/, ""));
}
