import nextVitals from "eslint-config-next/core-web-vitals";
import nextTypescript from "eslint-config-next/typescript";

const config = [
  ...nextVitals,
  ...nextTypescript,
  {
    ignores: [".next/**", "node_modules/**", "lib/generated/**", ".data/**", "test-results/**", "playwright-report/**", "next-env.d.ts"],
  },
  {
    rules: {
      // Only lib/config.ts reads the environment; everything else asks it.
      "no-restricted-properties": [
        "error",
        { object: "process", property: "env", message: "Read configuration through lib/config.ts (getConfig)." },
      ],
    },
  },
  {
    // next.config.ts runs in Next's own process before the app exists; NODE_ENV there is Next's (build or start).
    files: ["lib/config.ts", "next.config.ts", "scripts/**", "tests/**", "e2e/**", "bench/**"],
    rules: { "no-restricted-properties": "off" },
  },
];

export default config;
