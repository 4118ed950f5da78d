import type { NextConfig } from "next";

// Headers every response carries, static files included. The Content-Security-Policy is not here: it holds a
// per-request nonce, so proxy.ts sets it (lib/http/content-security-policy.ts).
const securityHeaders = [
  // The settings pages handle credentials: never inside someone else's frame (frame-ancestors says the same to
  // browsers that read CSP), never sniffed, no referrer leaks.
  { key: "X-Frame-Options", value: "DENY" },
  { key: "X-Content-Type-Options", value: "nosniff" },
  { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
  { key: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=()" },
  // Production only: a browser that once reached the app over HTTPS never again tries plain HTTP. Browsers ignore
  // it on plain-HTTP responses, so a local `npm start` on http://localhost is unaffected.
  ...(process.env.NODE_ENV === "production" ? [{ key: "Strict-Transport-Security", value: "max-age=63072000; includeSubDomains" }] : []),
];

const nextConfig: NextConfig = {
  // The pg driver and the job runner are Node-only; keep them out of the server bundle.
  serverExternalPackages: ["pg", "pg-boss"],
  poweredByHeader: false,
  async headers() {
    return [{ source: "/:path*", headers: securityHeaders }];
  },
};

export default nextConfig;
