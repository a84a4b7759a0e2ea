/**
 * Where a process's CPU went, from a V8 `.cpuprofile`: self time grouped into the parts of the
 * data plane (HTTP server, upstream client, core stages, scheduling, flow control, metrics), the
 * runtime (GC, syscalls) and the rest, as percentages of busy time.
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
}

const GROUPS: [string, (url: string, fn: string) => boolean][] = [
  ["idle", (_u, f) => f === "(idle)"],
  ["garbage collection", (_u, f) => f === "(garbage collector)"],
  ["socket writes (writev/write syscalls)", (u, f) => u === "" && /^write/.test(f)],
  [
    "HTTP/1.1 server (src/proxy/http1/server, parsers)",
    (u) => /proxy\/http1\/(server|request-head|header-lines|chunked)/.test(u),
  ],
  [
    "upstream client (src/proxy/http1/upstream-client, response-head)",
    (u) => /proxy\/http1\/(upstream|response-head)/.test(u),
  ],
  ["proxy adapter (forward, gateway-server)", (u) => /\/proxy\//.test(u)],
  ["parse & validate (JSON body)", (u, f) => /parse-request/.test(u) || f === "parse"],
  ["exchange & director (route, resolve, relay)", (u) => /requestcontrol\//.test(u)],
  ["scheduling (filters, scorers, picker, prefix)", (u) => /scheduling\//.test(u) || /xxhash|wasm/.test(u)],
  ["flow control (admission)", (u) => /flowcontrol\//.test(u)],
  ["metrics and hooks", (u) => /observability\/|prom-client/.test(u)],
  ["node streams, net, timers, events", (u) => /^node:/.test(u)],
];

/** A text table: group, share of busy time. */
export function summarizeCpuProfile(file: string): string {
  const p = JSON.parse(readFileSync(file, "utf8")) as {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, number>();
  let all = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const n = byId.get(p.samples[i]!)!;
    const dt = p.timeDeltas[i] ?? 0;
    const { url, functionName } = n.callFrame;
    const group =
      GROUPS.find(([, test]) => test(url, functionName))?.[0] ?? "other (runtime, loaders, native)";
    totals.set(group, (totals.get(group) ?? 0) + dt);
    all += dt;
  }
  const busy = all - (totals.get("idle") ?? 0);
  return [...totals]
    .filter(([g]) => g !== "idle")
    .sort((a, b) => b[1] - a[1])
    .map(([g, t]) => `  ${((100 * t) / busy).toFixed(1).padStart(5)}%  ${g}`)
    .join("\n");
}
