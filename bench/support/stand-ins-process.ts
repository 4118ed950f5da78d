// The Buildkite and Secrets Manager stand-ins in a process of their own (forked with an IPC channel), so that what
// they cost in CPU and memory is never counted against the process being measured. The parent registers tokens,
// sets the latency and reads the call counts through messages. Relative imports only: run by tsx from the bench.
import { BUILDKITE_FIXTURES } from "../../tests/support/buildkite-fixtures";
import { startBuildkiteStandIn } from "../../tests/support/buildkite-stand-in";
import { startSecretsManagerStandIn } from "../../tests/support/secrets-manager-stand-in";
import { benchToken, type StandInCommand, type StandInCounts } from "./stand-ins";

const enforceRateLimits = process.argv.includes("--enforce-rate-limits");
const buildkite = await startBuildkiteStandIn({ enforceRateLimits });
const secretsManager = await startSecretsManagerStandIn();

function counts(): StandInCounts {
  const perToken = new Map<string, number>();
  for (const request of buildkite.requests) {
    if (request.token) perToken.set(request.token, (perToken.get(request.token) ?? 0) + 1);
  }
  const byOperation: Record<string, number> = {};
  for (const request of secretsManager.requests) byOperation[request.operation] = (byOperation[request.operation] ?? 0) + 1;
  const perTokenValues = [...perToken.values()];
  return {
    buildkite: {
      total: buildkite.requests.length,
      tokens: perToken.size,
      maxPerToken: perTokenValues.length ? Math.max(...perTokenValues) : 0,
      minPerToken: perTokenValues.length ? Math.min(...perTokenValues) : 0,
      byPath: Object.fromEntries(
        Object.entries(
          buildkite.requests.reduce<Record<string, number>>((acc, request) => {
            const key = `${request.method} ${request.path.replace(/\/organizations\/[^/?]+/, "/organizations/{slug}")}`;
            acc[key] = (acc[key] ?? 0) + 1;
            return acc;
          }, {}),
        ),
      ),
      rateLimited: buildkiteStatus429,
    },
    secretsManager: { total: secretsManager.requests.length, byOperation },
  };
}

// The stand-in logs requests, not answers: Buildkite's 429s are the requests made with a rate-limited token.
let buildkiteStatus429 = 0;
const rateLimitedTokens = new Set<string>();

process.on("message", (message: StandInCommand) => {
  const reply = (value: unknown) => process.send!({ id: message.id, value });
  switch (message.type) {
    case "register": {
      for (let index = message.from; index < message.from + message.count; index += 1) {
        const token = benchToken(message.prefix, index);
        const slug = message.slug ?? `${message.prefix}-org-${index}`;
        if (message.scenario === "rate_limited") {
          buildkite.register(token, { kind: "rate_limited", resetSeconds: 120 });
          rateLimitedTokens.add(token);
        } else {
          const good = BUILDKITE_FIXTURES.good;
          if (good.kind !== "ok") throw new Error("the good fixture is not an ok scenario");
          buildkite.register(token, { ...good, organizations: [{ slug, name: `Bench ${index}` }] });
        }
      }
      return reply(null);
    }
    case "latency":
      buildkite.setLatency(message.ms);
      secretsManager.setLatency(message.ms);
      return reply(null);
    case "counts":
      buildkiteStatus429 = buildkite.requests.filter((request) => request.token && rateLimitedTokens.has(request.token)).length;
      return reply(counts());
    case "reset-log":
      buildkite.reset();
      secretsManager.requests.length = 0;
      return reply(null);
    case "stop":
      void Promise.all([buildkite.close(), secretsManager.close()]).then(() => {
        reply(null);
        process.exit(0);
      });
      return;
  }
});

process.send!({ id: 0, value: { buildkiteUrl: buildkite.url, secretsManagerUrl: secretsManager.url, region: secretsManager.region } });
