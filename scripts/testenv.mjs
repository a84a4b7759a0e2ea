// The test environment: real components our tests and benchmarks run against (Envoy, kube-apiserver,
// etcd, helm, nginx, wrk, Prometheus, Chromium, peer routers), installed by script into one cache
// folder and never by hand. Each component is one file in scripts/testenv/ exporting
// `{ name, description, ensure(ctx) }`; `ensure` is idempotent and returns the tool paths it provides.
//
// Usage: npm run testenv -- ensure [component ...]   install (default: every component the suite needs)
//        npm run testenv -- path TOOL                 print one tool's absolute path
//        npm run testenv -- list                      components and what they provide
//        npm run testenv -- <component command> ...   e.g. kube-up DIR / kube-down DIR
//
// The cache is $IGW_TESTENV_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/inference-gateway/testenv. Tool
// paths are recorded in <cache>/tools.json, which test/helpers/testenv.ts reads.
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { cacheDir, readTools, writeTools } from "./testenv/cache.mjs";

const HERE = join(dirname(fileURLToPath(import.meta.url)), "testenv");

async function loadComponents() {
  const out = new Map();
  for (const file of readdirSync(HERE).sort()) {
    if (!file.endsWith(".mjs") || file.startsWith("_") || file === "cache.mjs" || file === "run.mjs")
      continue;
    const mod = await import(pathToFileURL(join(HERE, file)).href);
    if (mod.component) out.set(mod.component.name, mod.component);
  }
  return out;
}

async function ensure(components, names) {
  const cache = cacheDir();
  const chosen =
    names.length > 0 ? names : [...components.values()].filter((c) => c.suite).map((c) => c.name);
  for (const name of chosen) {
    const c = components.get(name);
    if (!c) throw new Error(`unknown component "${name}" (known: ${[...components.keys()].join(", ")})`);
    const t0 = Date.now();
    const tools = await c.ensure({ cache, log: (m) => console.error(`testenv ${name}: ${m}`) });
    writeTools({ ...readTools(), ...tools });
    console.error(`testenv ${name}: ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
}

async function main() {
  const [command, ...args] = process.argv.slice(2);
  const components = await loadComponents();
  if (command === undefined || command === "list" || command === "help" || command === "--help") {
    for (const c of components.values())
      console.log(`${c.name.padEnd(14)} ${c.suite ? "(suite) " : "        "}${c.description}`);
    const commands = [...components.values()].flatMap((c) => Object.keys(c.commands ?? {}));
    console.log(
      `\ncommands: ensure [component...], path TOOL, list${commands.map((n) => `, ${n}`).join("")}`,
    );
    return;
  }
  if (command === "ensure") return ensure(components, args);
  if (command === "path") {
    const tool = readTools()[args[0] ?? ""];
    if (!tool) {
      console.error(`testenv: no tool "${args[0]}" installed; run: npm run testenv -- ensure`);
      process.exit(2);
    }
    console.log(tool);
    return;
  }
  for (const c of components.values()) {
    const run = c.commands?.[command];
    if (run) return run(args, { cache: cacheDir(), log: (m) => console.error(`testenv ${c.name}: ${m}`) });
  }
  console.error(`testenv: unknown command "${command}"; see: npm run testenv -- list`);
  process.exit(2);
}

main().catch((e) => {
  console.error(`testenv: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
