import { request } from "undici";
import { startBuildkiteStandIn } from "../tests/support/buildkite-stand-in";
import { BUILDKITE_FIXTURES, BUILDKITE_TOKENS } from "../tests/support/buildkite-fixtures";
const s = await startBuildkiteStandIn();
s.register(BUILDKITE_TOKENS.good, BUILDKITE_FIXTURES.good);
const N = 2000;
for (const path of ["/v2/access-token", "/v2/organizations/acme-inc"]) {
  for (let i = 0; i < 200; i++) await (await request(`${s.url}${path}`, { headers: { authorization: `Bearer ${BUILDKITE_TOKENS.good}` } })).body.text();
  const c0 = process.cpuUsage(); const t0 = performance.now();
  for (let i = 0; i < N; i++) await (await request(`${s.url}${path}`, { headers: { authorization: `Bearer ${BUILDKITE_TOKENS.good}` } })).body.text();
  const c = process.cpuUsage(c0);
  console.log(path, "wall ms/req", ((performance.now() - t0) / N).toFixed(2), "cpu ms/req (client+server)", ((c.user + c.system) / 1000 / N).toFixed(2));
}
await s.close();
