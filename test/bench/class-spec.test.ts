import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parseClassSpec, resolveClass, type TrafficClass } from "../../src/bench/config.ts";
import { loadWorkload } from "../../src/bench/workload-file.ts";

const defaults: Omit<TrafficClass, "name"> = {
  model: "qwen",
  numPrompts: 1000,
  inputLen: 1024,
  outputLen: 128,
  prefixLen: 0,
  rangeRatio: 0,
  requestRate: Number.POSITIVE_INFINITY,
  burstiness: 1,
  maxConcurrency: null,
  headers: { "x-global": "1" },
  seed: 0,
};

test("--class parses every key and inherits the rest from the flags", () => {
  const o = parseClassSpec(
    "name=critical,model=travel-helper,concurrency=60,rate=inf,num-prompts=300,input-len=3000,output-len=3000," +
      "prefix-len=1000,range-ratio=0.2,priority=-1,header=x-tenant:a,header=x-b:c:d,slo=ttft:300|tpot:50,seed=5,burstiness=0.5",
  );
  const c = resolveClass(o, defaults);
  assert.equal(c.name, "critical");
  assert.equal(c.model, "travel-helper");
  assert.equal(c.maxConcurrency, 60);
  assert.equal(c.requestRate, Number.POSITIVE_INFINITY);
  assert.equal(c.numPrompts, 300);
  assert.equal(c.inputLen, 3000);
  assert.equal(c.outputLen, 3000);
  assert.equal(c.prefixLen, 1000);
  assert.equal(c.rangeRatio, 0.2);
  assert.equal(c.priority, -1);
  assert.equal(c.seed, 5);
  assert.equal(c.burstiness, 0.5);
  assert.deepEqual(c.headers, { "x-global": "1", "x-tenant": "a", "x-b": "c:d" });
  assert.deepEqual(c.slo, { ttft: 300, tpot: 50 });
  const bare = resolveClass(parseClassSpec("name=b"), defaults);
  assert.equal(bare.model, "qwen");
  assert.equal(bare.numPrompts, 1000);
});

test("--class errors name the key and the bad value", () => {
  assert.throws(() => parseClassSpec("model=x"), /"name" is required/);
  assert.throws(() => parseClassSpec("name=a,colour=red"), /unknown key "colour"/);
  assert.throws(
    () => parseClassSpec("name=a,concurrency=0"),
    /concurrency: expected an integer >= 1, got "0"/,
  );
  assert.throws(() => parseClassSpec("name=a,rate=fast"), /rate: expected a number or "inf", got "fast"/);
  assert.throws(() => parseClassSpec("name=a,slo=ttft=3"), /slo/);
  assert.throws(
    () => resolveClass(parseClassSpec("name=a,range-ratio=1"), defaults),
    /range-ratio must be in \[0, 1\)/,
  );
});

test("workload files give the same classes, and errors carry file, line and field", () => {
  const dir = mkdtempSync(join(tmpdir(), "igw-bench-"));
  const good = join(dir, "w.yaml");
  writeFileSync(
    good,
    "classes:\n  - name: critical\n    model: qwen\n    concurrency: 60\n    rate: inf\n    headers: {x-tenant: a}\n" +
      "    slo: {ttft: 300}\n  - name: standard\n    model: travel-helper\n    num-prompts: 10\n    priority: 1\n",
  );
  const classes = loadWorkload(good);
  assert.deepEqual(classes[0], {
    name: "critical",
    model: "qwen",
    maxConcurrency: 60,
    requestRate: Number.POSITIVE_INFINITY,
    headers: { "x-tenant": "a" },
    slo: { ttft: 300 },
  });
  assert.deepEqual(classes[1], { name: "standard", model: "travel-helper", numPrompts: 10, priority: 1 });
  const bad = join(dir, "bad.yaml");
  writeFileSync(bad, "classes:\n  - name: a\n    concurrency: -3\n");
  assert.throws(
    () => loadWorkload(bad),
    (e: Error) => {
      assert.match(
        e.message,
        new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}:3: classes\\.0\\.concurrency: `),
      );
      return true;
    },
  );
  const typo = join(dir, "typo.yaml");
  writeFileSync(typo, "classes:\n  - name: a\n  - name: b\n    modle: x\n");
  assert.throws(() => loadWorkload(typo), /typo\.yaml:(3|4): classes\.1.*modle/);
});
