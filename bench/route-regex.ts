/**
 * Route-regex benchmark (`npm run bench:regex`): the cost of one HTTPRoute RegularExpression match
 * with the gateway's engine (RE2 semantics via re2js, `src/api/route-regex.ts`) against
 * JavaScript's backtracking RegExp, on ordinary values (the seed's `travel-helper.*`, an API path)
 * and hostile ones (`([a-z]+-?)+-v[0-9]+` on a value that almost matches). RegExp runs the hostile
 * pattern on short values only, once each: its time doubles with every character.
 */
import { measure } from "mitata";
import { compileRouteRegex } from "../src/api/route-regex.ts";

const HOSTILE = "([a-z]+-?)+-v[0-9]+";
const cases: { name: string; pattern: string; value: string }[] = [
  { name: "seed header `travel-helper.*`, 13 chars", pattern: "travel-helper.*", value: "travel-helper" },
  {
    name: "seed header `travel-helper.*`, 34 chars",
    pattern: "travel-helper.*",
    value: "travel-helper-v1-and-some-more-txt",
  },
  {
    name: "path `/v1/(chat/)?completions`",
    pattern: "/v1/(chat/)?completions",
    value: "/v1/chat/completions",
  },
  { name: `hostile \`${HOSTILE}\`, 20 chars`, pattern: HOSTILE, value: `${"a".repeat(19)}!` },
  { name: `hostile \`${HOSTILE}\`, 26 chars`, pattern: HOSTILE, value: `${"a".repeat(25)}!` },
  { name: `hostile \`${HOSTILE}\`, 34 chars`, pattern: HOSTILE, value: `${"a".repeat(33)}!` },
  { name: `hostile \`${HOSTILE}\`, 4,096 chars`, pattern: HOSTILE, value: `${"a".repeat(4095)}!` },
];

/** Longest value the backtracking engine is given (26 chars ≈ 0.2 s; 34 took 19 s in the issue). */
const BACKTRACKING_MAX_CHARS = 26;

function format(ns: number): string {
  if (ns >= 1e9) return `${(ns / 1e9).toFixed(2)} s`;
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(1)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(2)} µs`;
  return `${ns.toFixed(0)} ns`;
}

const rows: string[] = [];
for (const c of cases) {
  const re2 = compileRouteRegex(c.pattern);
  const fast = await measure(() => re2(c.value), { min_cpu_time: 200e6 });
  const js = new RegExp(`^(?:${c.pattern})$`);
  let backtracking: string;
  if (c.pattern === HOSTILE) {
    if (c.value.length > BACKTRACKING_MAX_CHARS) backtracking = "not run (exponential)";
    else {
      const t0 = process.hrtime.bigint();
      js.test(c.value);
      backtracking = `${format(Number(process.hrtime.bigint() - t0))} (1 call)`;
    }
  } else backtracking = format((await measure(() => js.test(c.value), { min_cpu_time: 200e6 })).avg);
  rows.push(`| ${c.name} | ${format(fast.avg)} | ${format(fast.p99)} | ${backtracking} |`);
  console.log(rows.at(-1));
}
const compile = await measure(() => compileRouteRegex(HOSTILE));
console.log("\n| value | re2js mean | re2js p99 | backtracking RegExp |");
console.log("|---|---|---|---|");
for (const r of rows) console.log(r);
console.log(`\ncompiling one pattern with re2js (at load, not per request): ${format(compile.avg)}`);
