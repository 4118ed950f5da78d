import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // The embedded Postgres and the pg driver are Node-only; keep them out of the server bundle.
  serverExternalPackages: ["@electric-sql/pglite", "@electric-sql/pglite-socket", "pg"],
  poweredByHeader: false,
  typedRoutes: false,
};

export default nextConfig;
