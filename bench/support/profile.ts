// Reads a V8 .cpuprofile (node --cpu-prof) and prints where the time went: self time by package / area, and the
// heaviest functions. Enough to see whether a page's time is our code, Prisma, Auth.js, React rendering or Next.
type Node = { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number; children?: number[] };
type Profile = { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };

function area(url: string): string {
  if (!url) return "(native / GC / idle)";
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (match) return match[1]!;
  if (url.includes("/.next/server/chunks/")) return ".next server chunks (our code + bundled deps)";
  if (url.startsWith("node:")) return "node core";
  return url.replace(/^file:\/\//, "").split("/").slice(-2).join("/");
}

export function summariseProfile(profile: Profile, top = 15) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, index) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)));
  const total = [...selfUs.values()].reduce((sum, value) => sum + value, 0);
  const idle = [...selfUs.entries()].filter(([id]) => ["(idle)", "(program)"].includes(byId.get(id)!.callFrame.functionName)).reduce((s, [, v]) => s + v, 0);
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    if (frame.functionName === "(idle)") continue;
    const key = frame.functionName === "(garbage collector)" ? "(garbage collector)" : area(frame.url);
    areas.set(key, (areas.get(key) ?? 0) + us);
    const name = `${frame.functionName || "(anonymous)"} ${area(frame.url)}:${frame.lineNumber + 1}`;
    functions.set(name, (functions.get(name) ?? 0) + us);
  }
  const busy = total - idle;
  const pct = (us: number) => `${((100 * us) / busy).toFixed(1)}%`.padStart(6);
  console.log(`   ${(total / 1e6).toFixed(1)} s profiled, ${(busy / 1e6).toFixed(1)} s busy; self time by area (share of busy):`);
  for (const [key, us] of [...areas].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`   ${pct(us)}  ${key}`);
  console.log("   heaviest functions (self time):");
  for (const [key, us] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`   ${pct(us)}  ${key}`);
}
