import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import parseOracle from "parse-prometheus-text-format";
import client from "prom-client";
import {
  type PromSample,
  parseFloatToken,
  scanPrometheusText,
} from "../../src/modelserver/prom-text-scanner.ts";

/** The oracle's string values as numbers (independent of the scanner's own float parsing). */
function oracleNumber(s: string | undefined): number {
  if (s === "+Inf") return Number.POSITIVE_INFINITY;
  if (s === "-Inf") return Number.NEGATIVE_INFINITY;
  return Number(s);
}

/** A family in the oracle's shape, built from the scanner's samples (histograms grouped by labels). */
function asOracleShape(family: string, type: string, samples: readonly PromSample[]) {
  if (type !== "histogram") {
    return samples.map((s) => ({ labels: s.labels, value: s.value, ts: s.timestampMs }));
  }
  const series = new Map<
    string,
    { labels: Record<string, string>; buckets: Record<string, number>; sum?: number; count?: number }
  >();
  const key = (labels: Readonly<Record<string, string>>) =>
    JSON.stringify(
      Object.entries(labels)
        .filter(([k]) => k !== "le")
        .sort(),
    );
  for (const s of samples) {
    const k = key(s.labels);
    let e = series.get(k);
    if (e === undefined) {
      const labels = { ...s.labels };
      delete labels["le"];
      e = { labels, buckets: {} };
      series.set(k, e);
    }
    if (s.name === `${family}_bucket`) e.buckets[s.labels["le"]!] = s.value;
    else if (s.name === `${family}_sum`) e.sum = s.value;
    else if (s.name === `${family}_count`) e.count = s.value;
  }
  return [...series.values()];
}

function oracleShape(text: string, family: string) {
  const f = parseOracle(text).find((x) => x.name === family);
  if (f === undefined) return [];
  if (f.type !== "HISTOGRAM") {
    return f.metrics.map((m) => ({
      labels: m.labels ?? {},
      value: oracleNumber(m.value),
      ts: m.timestamp_ms === undefined ? undefined : Number(m.timestamp_ms),
    }));
  }
  return f.metrics.map((m) => ({
    labels: m.labels ?? {},
    buckets: Object.fromEntries(Object.entries(m.buckets ?? {}).map(([k, v]) => [k, oracleNumber(v)])),
    sum: oracleNumber(m.sum),
    count: oracleNumber(m.count),
  }));
}

test("reads gauges, counters and histograms from prom-client output like the oracle", async () => {
  const r = new client.Registry();
  const g = new client.Gauge({
    name: "vllm:num_requests_waiting",
    help: "w",
    labelNames: ["model_name"],
    registers: [r],
  });
  g.set({ model_name: 'we"ird\\name\nx' }, 3);
  g.set({ model_name: "plain" }, 4.5);
  const c = new client.Counter({ name: "req_total", help: "c", registers: [r] });
  c.inc(2);
  const h = new client.Histogram({
    name: "lat_seconds",
    help: "h",
    labelNames: ["k"],
    buckets: [0.1, 1],
    registers: [r],
  });
  h.observe({ k: "a" }, 0.5);
  h.observe({ k: "b" }, 5);
  new client.Gauge({ name: "vllm:num_requests_waiting_other", help: "decoy", registers: [r] }).set(99);
  const text = await r.metrics();

  const scan = scanPrometheusText(text, ["vllm:num_requests_waiting", "req_total", "lat_seconds"]);
  assert.equal(scan.malformedLines, 0);
  const waiting = scan.families.get("vllm:num_requests_waiting")!;
  assert.deepEqual(
    waiting.map((s) => [s.labels["model_name"], s.value]),
    [
      ['we"ird\\name\nx', 3],
      ["plain", 4.5],
    ],
  );
  for (const [family, type] of [
    ["vllm:num_requests_waiting", "gauge"],
    ["req_total", "counter"],
  ] as const) {
    assert.deepEqual(
      asOracleShape(family, type, scan.families.get(family)!),
      oracleShape(text, family),
      family,
    );
  }
  // The oracle merges labelled histogram series and drops their labels, sum and count (a bug of
  // parse-prometheus-text-format 1.1.1), so labelled histograms are checked against known values.
  assert.deepEqual(asOracleShape("lat_seconds", "histogram", scan.families.get("lat_seconds")!), [
    { labels: { k: "a" }, buckets: { "0.1": 0, "1": 1, "+Inf": 1 }, sum: 0.5, count: 1 },
    { labels: { k: "b" }, buckets: { "0.1": 0, "1": 0, "+Inf": 1 }, sum: 5, count: 1 },
  ]);
});

test("NaN, ±Inf and timestamps", () => {
  const text = 'a NaN\nb +Inf 1395066363000\nc -Inf\nd{x="1"} 1.5e3 -12\n';
  const scan = scanPrometheusText(text, ["a", "b", "c", "d"]);
  assert.ok(Number.isNaN(scan.families.get("a")![0]!.value));
  assert.deepEqual(scan.families.get("b")![0], {
    name: "b",
    labels: {},
    value: Infinity,
    timestampMs: 1395066363000,
  });
  assert.equal(scan.families.get("c")![0]!.value, -Infinity);
  assert.deepEqual(scan.families.get("d")![0], {
    name: "d",
    labels: { x: "1" },
    value: 1500,
    timestampMs: -12,
  });
});

test("only whole names at line starts match; HELP text and longer names do not", () => {
  const text = [
    "# HELP foo foo is a gauge",
    "# TYPE foo gauge",
    "foo_bar 7",
    "xfoo 8",
    'foo{a="b",} 1',
    "foo 2",
  ].join("\n");
  const scan = scanPrometheusText(text, ["foo"]);
  assert.deepEqual(
    scan.families.get("foo")!.map((s) => s.value),
    [1, 2],
  );
});

test("buckets: false leaves out a histogram's _bucket samples and keeps _sum and _count", () => {
  const text = [
    "# TYPE h histogram",
    'h_bucket{le="0.1"} 1',
    'h_bucket{le="+Inf"} 3',
    "h_sum 0.5",
    "h_count 3",
    "# TYPE g gauge",
    "g 4",
  ].join("\n");
  const names = (scan: ReturnType<typeof scanPrometheusText>) =>
    scan.families.get("h")!.map((s) => `${s.name}=${s.value}`);
  assert.deepEqual(names(scanPrometheusText(text, ["h", "g"])), [
    "h_bucket=1",
    "h_bucket=3",
    "h_sum=0.5",
    "h_count=3",
  ]);
  const lean = scanPrometheusText(text, ["h", "g"], { buckets: false });
  assert.deepEqual(names(lean), ["h_sum=0.5", "h_count=3"]);
  assert.deepEqual(
    lean.families.get("g")!.map((s) => s.value),
    [4],
  );
});

test("malformed lines of a wanted family are skipped and counted; good ones still read", () => {
  const text = [
    'm{a="unterminated} 1',
    "m abc",
    "m 1 2 3",
    'm{a="x"} 4',
    'm{a="bad\\q"} 5',
    'm{="x"} 6',
    "m 7 1.5",
    "m\t8",
    "",
  ].join("\n");
  const scan = scanPrometheusText(text, ["m"]);
  assert.deepEqual(
    scan.families.get("m")!.map((s) => s.value),
    [4, 8],
  );
  assert.equal(scan.malformedLines, 6);
});

test("a counter family typed as prometheus_client writes it (`# TYPE x_total counter`) is found by its name", () => {
  const page = [
    "# HELP vllm:prompt_tokens_total Number of prefill tokens processed.",
    "# TYPE vllm:prompt_tokens_total counter",
    'vllm:prompt_tokens_total{model_name="m"} 12.0',
    'vllm:prompt_tokens_created{model_name="m"} 1.7e+09',
    "# TYPE other_total gauge",
    "other_total 5",
    "",
  ].join("\n");
  const scan = scanPrometheusText(page, ["vllm:prompt_tokens", "other"]);
  assert.deepEqual(
    scan.families.get("vllm:prompt_tokens")!.map((s) => [s.name, s.value]),
    [
      ["vllm:prompt_tokens_total", 12],
      ["vllm:prompt_tokens_created", 1.7e9],
    ],
  );
  assert.deepEqual(scan.families.get("other"), [], "a gauge named x_total is not family x's counter");
});

test("CRLF line endings are tolerated", () => {
  const scan = scanPrometheusText('# TYPE g gauge\r\ng{a="1"} 3\r\ng 4\r\n', ["g"]);
  assert.deepEqual(
    scan.families.get("g")!.map((s) => s.value),
    [3, 4],
  );
});

test("parseFloatToken accepts Prometheus floats and rejects garbage", () => {
  assert.equal(parseFloatToken("1e-3"), 0.001);
  assert.equal(parseFloatToken("-0.5"), -0.5);
  assert.equal(parseFloatToken("+Inf"), Infinity);
  assert.equal(parseFloatToken("inf"), Infinity);
  assert.equal(parseFloatToken(""), undefined);
  assert.equal(parseFloatToken("0x10"), undefined);
  assert.equal(parseFloatToken("1.2.3"), undefined);
});

// ---- property tests -------------------------------------------------------------------------

const labelName = fc.stringMatching(/^[a-z_][a-z0-9_]{0,5}$/).filter((s) => s !== "le" && s !== "quantile");
const labelValue = fc.string({
  unit: fc.constantFrom("a", "b", " ", '"', "\\", "\n", "é", "{", "}", ",", "=", "#"),
});
const labels = fc.dictionary(labelName, labelValue, { maxKeys: 3 });
const value = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(Number.NaN, Infinity, -Infinity, 0, 1),
  fc.integer({ min: -1000, max: 1000 }),
);

function renderValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}
function renderLabels(l: Record<string, string>): string {
  const parts = Object.entries(l).map(
    ([k, v]) => `${k}="${v.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n")}"`,
  );
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

const simpleFamily = fc.record({
  type: fc.constantFrom("gauge", "counter", "untyped"),
  samples: fc.array(
    fc.record({ labels, value, ts: fc.option(fc.integer({ min: 0, max: 2e12 }), { nil: undefined }) }),
    {
      minLength: 1,
      maxLength: 4,
    },
  ),
});
const histFamily = fc.record({
  type: fc.constant("histogram" as const),
  // One unlabelled series: the oracle mishandles labelled histograms (see the prom-client test).
  series: fc.tuple(
    fc.record({
      labels: fc.constant({} as Record<string, string>),
      counts: fc.array(fc.nat(1000), { minLength: 1, maxLength: 4 }),
      sum: fc.double({ noNaN: true, noDefaultInfinity: true }),
    }),
  ),
});

test("property: every generated page scans exactly as the oracle parses it", () => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(simpleFamily, histFamily), { minLength: 1, maxLength: 5 }),
      fc.stringMatching(/^[a-z]{1,6}$/),
      (families, stem) => {
        const names = families.map((_, i) => `f${i}_${stem}`);
        let text = "";
        families.forEach((f, i) => {
          const name = names[i]!;
          text += `# HELP ${name} generated\n# TYPE ${name} ${f.type}\n`;
          if (f.type === "histogram") {
            f.series.forEach((s) => {
              const l = { ...s.labels };
              let cumulative = 0;
              s.counts.forEach((c, bi) => {
                cumulative += c;
                text += `${name}_bucket${renderLabels({ ...l, le: String(bi + 0.5) })} ${cumulative}\n`;
              });
              text += `${name}_bucket${renderLabels({ ...l, le: "+Inf" })} ${cumulative}\n`;
              text += `${name}_sum${renderLabels(l)} ${renderValue(s.sum)}\n`;
              text += `${name}_count${renderLabels(l)} ${cumulative}\n`;
            });
          } else {
            // A valid page has distinct label sets per family (the oracle keeps only the last duplicate).
            for (const [si, s] of f.samples.entries()) {
              text += `${name}${renderLabels({ ...s.labels, i: String(si) })} ${renderValue(s.value)}${s.ts === undefined ? "" : ` ${s.ts}`}\n`;
            }
          }
          text += "\n";
        });
        const scan = scanPrometheusText(text, names);
        assert.equal(scan.malformedLines, 0);
        families.forEach((f, i) => {
          const name = names[i]!;
          assert.deepEqual(asOracleShape(name, f.type, scan.families.get(name)!), oracleShape(text, name));
        });
      },
    ),
    { numRuns: 200 },
  );
});

test("property: arbitrary input never throws and only yields well-formed samples", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          fc.string(),
          fc.constantFrom(
            "m 1",
            'm{a="b"} 2',
            "m{",
            "m NaN",
            "# TYPE m histogram",
            'm_bucket{le="1"} 3',
            "m_sum 1",
          ),
        ),
      ),
      (lines) => {
        const scan = scanPrometheusText(lines.join("\n"), ["m"]);
        for (const s of scan.families.get("m")!) {
          assert.ok(s.name === "m" || s.name.startsWith("m_"));
          assert.equal(typeof s.value, "number");
        }
      },
    ),
    { numRuns: 300 },
  );
});
