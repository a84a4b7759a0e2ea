// The dashboard page: renders the events of /dashboard/events (schema: ../events.ts, one handler
// per DashboardEvent type). Plain DOM and SVG, no framework, nothing fetched from elsewhere. Text
// from the gateway (model and endpoint names) is only ever set as textContent.

const SVG = "http://www.w3.org/2000/svg";
const CLASS_COLOURS = {
  Critical: ["#c62828", "#ef6c00", "#ad1457"],
  Standard: ["#1565c0", "#00838f", "#5e35b1"],
  Sheddable: ["#616161", "#8d6e63", "#9e9d24"],
};

const state = {
  tickMs: 1000,
  historyTicks: 180,
  /** traffic events, oldest first */
  traffic: [],
  /** pool → band priority → [{at, queued}] */
  queueHistory: new Map(),
  decisions: [],
};

/** `el("td", {class: "num"}, "3")`: an element with attributes and children (strings become text). */
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) e.setAttribute(k, String(v));
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function svg(tag, attrs = {}) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

function body(id) {
  return document.querySelector(`#${id} .body`);
}

function fmt(n, digits = 1) {
  if (n === null || n === undefined || Number.isNaN(n)) return "–";
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString("en");
  return n.toFixed(digits);
}

function time(at) {
  return new Date(at).toLocaleTimeString("en-GB", { hour12: false });
}

/** A horizontal bar for a 0..1 value (`full` above `limit`). */
function bar(fraction, limit = 1) {
  const f = Math.max(0, Math.min(1, fraction / limit));
  const b = el("span", {
    class: `bar${fraction >= limit ? " full" : fraction >= 0.8 * limit ? " high" : ""}`,
  });
  const fill = el("span");
  fill.style.width = `${(f * 100).toFixed(1)}%`;
  b.append(fill);
  return b;
}

function onHello(e) {
  state.tickMs = e.tickMs;
  state.historyTicks = e.historyTicks;
  state.traffic = [];
  state.queueHistory = new Map();
  state.decisions = [];
  document.getElementById("window").textContent =
    `(last ${Math.round((e.historyTicks * e.tickMs) / 60000)} min, ${e.tickMs / 1000} s steps)`;
}

function onConfig(e) {
  const c = e.config;
  const out = body("config");
  out.replaceChildren(
    el(
      "p",
      {},
      `Loaded ${time(c.loadedAt)}: ${c.pools} pool(s), ${c.models} InferenceModel(s), ${c.objectives} InferenceObjective(s).`,
    ),
  );
  if (c.rejected) {
    out.append(
      el(
        "p",
        {},
        el("span", { class: "tag bad" }, "last change rejected"),
        ` at ${time(c.rejected.at)}; running configuration kept:`,
      ),
      el("div", { class: "errors", "data-testid": "rejected" }, c.rejected.errors.join("\n")),
    );
  } else out.append(el("p", {}, el("span", { class: "tag ok" }, "no rejected change")));
  const list = el("ul", { "data-testid": "served-models" });
  for (const p of c.servedModels) {
    const item = el("li", {}, `${p.pool}: `);
    if (!p.checked) item.append(el("span", { class: "tag" }, "servers not asked yet"));
    else if (p.unserved.length === 0)
      item.append(el("span", { class: "tag ok" }, "every model target is served"));
    else
      for (const u of p.unserved)
        item.append(el("span", { class: "tag warn" }, `${u.model} → ${u.target}: no endpoint serves it`));
    list.append(item);
  }
  out.append(el("h3", {}, "Served-models check"), list);
}

function endpointState(ep) {
  if (ep.ejection)
    return el("span", { class: "tag bad" }, `${ep.ejection.reason} until ${time(ep.ejection.until)}`);
  if (ep.stale) return el("span", { class: "tag warn" }, "stale");
  return el("span", { class: "tag ok" }, "ok");
}

function onPools(e) {
  const out = body("pools");
  out.replaceChildren();
  if (e.pools.length === 0) out.append(el("p", { class: "muted" }, "No pools configured."));
  for (const p of e.pools) {
    const sat = p.saturation;
    const card = el("div", { class: "pool", "data-pool": p.pool });
    card.append(
      el(
        "h3",
        {},
        `${p.pool} `,
        el("span", { class: "muted" }, "saturation "),
        sat === null ? el("span", { class: "muted" }, "n/a") : bar(sat, 1),
        el("span", { class: "saturation", "data-testid": "saturation" }, sat === null ? "" : fmt(sat, 2)),
      ),
    );
    const table = el(
      "table",
      {},
      el(
        "tr",
        {},
        el("th", {}, "endpoint"),
        el("th", { class: "num" }, "waiting"),
        el("th", { class: "num" }, "running"),
        el("th", { class: "num" }, "in flight"),
        el("th", {}, "KV cache"),
        el("th", { class: "num" }, "metrics age"),
        el("th", {}, "state"),
      ),
    );
    for (const ep of p.endpoints) {
      table.append(
        el(
          "tr",
          { "data-endpoint": ep.id },
          el("td", {}, ep.id),
          el("td", { class: "num waiting" }, ep.waiting),
          el("td", { class: "num running" }, ep.running),
          el("td", { class: "num inflight" }, ep.inFlight),
          el("td", { class: "kv" }, bar(ep.kvCacheUsage), `${fmt(ep.kvCacheUsage * 100, 0)}%`),
          el(
            "td",
            { class: "num age" },
            ep.metricsAgeMs === null ? "never" : `${fmt(ep.metricsAgeMs, 0)} ms`,
          ),
          el("td", {}, endpointState(ep)),
        ),
      );
    }
    if (p.endpoints.length === 0)
      table.append(el("tr", {}, el("td", { colspan: 7, class: "muted" }, "no endpoints")));
    card.append(table);
    out.append(card);
  }
  document.getElementById("updated").textContent = `updated ${time(e.at)}`;
}

/** A small line of `values` (at most the history length), for queue lengths. */
function sparkline(values) {
  const w = 80;
  const h = 18;
  const s = svg("svg", { viewBox: `0 0 ${w} ${h}`, width: w, height: h });
  const max = Math.max(1, ...values);
  const step = values.length > 1 ? w / (state.historyTicks - 1) : 0;
  const x0 = w - step * (values.length - 1);
  const d = values.map(
    (v, i) =>
      `${i === 0 ? "M" : "L"}${(x0 + i * step).toFixed(1)},${(h - 1 - (v / max) * (h - 2)).toFixed(1)}`,
  );
  s.append(svg("path", { d: d.join(" "), fill: "none", stroke: "#3b6fd8", "stroke-width": 1.2 }));
  return s;
}

function onQueues(e) {
  const out = body("queues");
  out.replaceChildren();
  for (const p of e.pools) {
    let hist = state.queueHistory.get(p.pool);
    if (!hist) {
      hist = new Map();
      state.queueHistory.set(p.pool, hist);
    }
    const table = el(
      "table",
      { "data-queues": p.pool },
      el(
        "tr",
        {},
        el("th", {}, "band"),
        el("th", { class: "num" }, "queued"),
        el("th", {}, "last minutes"),
        el("th", { class: "num" }, "bytes"),
        el("th", { class: "num" }, "admitted/s"),
        el("th", { class: "num" }, "shed/s"),
        el("th", { class: "num" }, "expired/s"),
        el("th", {}, "flows"),
      ),
    );
    for (const b of p.bands) {
      const series = hist.get(b.priority) ?? [];
      series.push(b.queued);
      if (series.length > state.historyTicks) series.shift();
      hist.set(b.priority, series);
      table.append(
        el(
          "tr",
          { "data-band": b.priority },
          el("td", { class: b.priorityClass }, `${b.priorityClass} (${b.priority})`),
          el("td", { class: "num queued" }, b.queued),
          el("td", {}, sparkline(series)),
          el("td", { class: "num" }, b.bytes),
          el("td", { class: "num admitted" }, fmt(b.admittedPerS)),
          el("td", { class: "num shed" }, fmt(b.shedPerS)),
          el("td", { class: "num expired" }, fmt(b.expiredPerS)),
          el("td", {}, ...b.flows.map((f) => el("span", { class: "tag" }, `${f.flow}: ${f.queued}`))),
        ),
      );
    }
    if (p.bands.length === 0)
      table.append(
        el("tr", {}, el("td", { colspan: 8, class: "muted" }, "nothing has passed flow control yet")),
      );
    out.append(el("h3", {}, p.pool), table);
  }
}

const CHARTS = [
  { key: "ttftMeanMs", title: "TTFT, mean (ms)" },
  { key: "tpotMeanMs", title: "TPOT, mean (ms)" },
  { key: "outputTokensPerS", title: "Output tokens per second" },
  { key: "requestsPerS", title: "Requests per second" },
];

function seriesName(p) {
  return `${p.priorityClass} · ${p.model || "(unknown model)"}`;
}

/** One line chart: x = time over the history window, one path per series. */
function lineChart(title, key, names, colours) {
  const w = 360;
  const h = 150;
  const left = 40;
  const bottom = 18;
  const end = state.traffic.at(-1)?.at ?? Date.now();
  const start = end - state.historyTicks * state.tickMs;
  let max = 0;
  for (const t of state.traffic) for (const p of t.points) if (p[key] !== null && p[key] > max) max = p[key];
  max = max > 0 ? max * 1.1 : 1;
  const x = (at) => left + ((at - start) / (end - start)) * (w - left - 4);
  const y = (v) => h - bottom - (v / max) * (h - bottom - 6);
  const s = svg("svg", { viewBox: `0 0 ${w} ${h}`, role: "img", "aria-label": title });
  s.append(svg("line", { class: "axis", x1: left, y1: h - bottom, x2: w - 4, y2: h - bottom }));
  s.append(svg("line", { class: "axis", x1: left, y1: 6, x2: left, y2: h - bottom }));
  for (const v of [0, max / 2, max]) {
    const label = svg("text", { x: left - 4, y: y(v) + 3, "text-anchor": "end" });
    label.textContent = fmt(v, v < 10 ? 1 : 0);
    s.append(label);
  }
  const minutes = svg("text", { x: left, y: h - 4 });
  minutes.textContent = `-${Math.round((state.historyTicks * state.tickMs) / 60000)} min`;
  const now = svg("text", { x: w - 4, y: h - 4, "text-anchor": "end" });
  now.textContent = "now";
  s.append(minutes, now);
  names.forEach((name, i) => {
    let d = "";
    let pen = "M";
    for (const t of state.traffic) {
      const p = t.points.find((q) => seriesName(q) === name);
      if (!p || p[key] === null) {
        pen = "M";
        continue;
      }
      d += `${pen}${x(t.at).toFixed(1)},${y(p[key]).toFixed(1)} `;
      pen = "L";
    }
    if (d)
      s.append(
        svg("path", { d, fill: "none", stroke: colours[i], "stroke-width": 1.6, "data-series": name }),
      );
    // A dot on the newest value, so a series with one point (or a gap before it) still shows.
    for (let t = state.traffic.length - 1; t >= 0; t--) {
      const p = state.traffic[t].points.find((q) => seriesName(q) === name && q[key] !== null);
      if (!p) continue;
      s.append(
        svg("circle", {
          cx: x(state.traffic[t].at).toFixed(1),
          cy: y(p[key]).toFixed(1),
          r: 2.2,
          fill: colours[i],
        }),
      );
      break;
    }
  });
  return el("div", { class: "chart", "data-chart": key }, el("h3", {}, title), s);
}

function renderTraffic() {
  const names = [];
  for (const t of state.traffic)
    for (const p of t.points) if (!names.includes(seriesName(p))) names.push(seriesName(p));
  names.sort();
  const used = { Critical: 0, Standard: 0, Sheddable: 0 };
  const colours = names.map((n) => {
    const cls = n.split(" · ")[0];
    const list = CLASS_COLOURS[cls] ?? CLASS_COLOURS.Standard;
    return list[used[cls]++ % list.length];
  });
  const legend = document.getElementById("legend");
  legend.replaceChildren(
    ...names.map((n, i) => {
      const swatch = el("i");
      swatch.style.background = colours[i];
      return el("span", { class: n.split(" · ")[0] }, swatch, n);
    }),
  );
  // The table: each series over the last 10 s (rates averaged over the ticks, latencies weighted by requests).
  const recent = state.traffic.slice(-Math.max(1, Math.round(10000 / state.tickMs)));
  const summary = el(
    "table",
    { "data-testid": "traffic-now" },
    el(
      "tr",
      {},
      el("th", {}, "model and class (last 10 s)"),
      ...CHARTS.map((c) => el("th", { class: "num" }, c.title)),
    ),
  );
  for (const name of names) {
    const points = recent.flatMap((t) => t.points.filter((q) => seriesName(q) === name));
    if (points.length === 0) continue;
    const rate = (key) => points.reduce((a, q) => a + q[key], 0) / recent.length;
    const weighted = (key) => {
      const known = points.filter((q) => q[key] !== null);
      const w = known.reduce((a, q) => a + q.requestsPerS, 0);
      return w === 0 ? null : known.reduce((a, q) => a + q[key] * q.requestsPerS, 0) / w;
    };
    const values = {
      ttftMeanMs: weighted("ttftMeanMs"),
      tpotMeanMs: weighted("tpotMeanMs"),
      outputTokensPerS: rate("outputTokensPerS"),
      requestsPerS: rate("requestsPerS"),
    };
    summary.append(
      el(
        "tr",
        { "data-series": name },
        el("td", { class: name.split(" · ")[0] }, name),
        ...CHARTS.map((c) => el("td", { class: `num ${c.key}` }, fmt(values[c.key]))),
      ),
    );
  }
  body("traffic").replaceChildren(...CHARTS.map((c) => lineChart(c.title, c.key, names, colours)), summary);
}

function onTraffic(e) {
  state.traffic.push(e);
  if (state.traffic.length > state.historyTicks) state.traffic.shift();
  renderTraffic();
}

function onDecisions(e) {
  state.decisions = [...e.decisions.slice().reverse(), ...state.decisions].slice(0, 50);
  const table = el(
    "table",
    {},
    el(
      "tr",
      {},
      el("th", {}, "time"),
      el("th", {}, "request"),
      el("th", {}, "model"),
      el("th", {}, "chosen (then fallbacks)"),
      el("th", {}, "candidates: total (each scorer's score, 0..1)"),
    ),
  );
  for (const d of state.decisions.slice(0, 15)) {
    const scores = el("td", { class: "scores" });
    if (d.candidates.length === 0)
      scores.append(
        el("span", { class: "muted" }, "no explanation (start the gateway with --explain-decisions)"),
      );
    for (const c of d.candidates) {
      const parts = Object.entries(c.scores).map(([k, v]) => `${k} ${fmt(v, 2)}`);
      scores.append(
        el(
          "div",
          {},
          el("b", {}, c.endpoint),
          ` ${fmt(c.total, 2)} `,
          el("span", { class: "muted" }, `(${parts.join(", ")})`),
        ),
      );
    }
    if (d.filteredOut > 0) scores.append(el("div", { class: "muted" }, `${d.filteredOut} filtered out`));
    table.append(
      el(
        "tr",
        { "data-decision": d.requestId },
        el("td", {}, time(d.at)),
        el("td", {}, d.requestId.slice(0, 12)),
        el("td", { class: d.priorityClass }, `${d.priorityClass} · ${d.model}`),
        el("td", {}, d.endpoints.join(", ")),
        scores,
      ),
    );
  }
  if (state.decisions.length === 0)
    table.append(el("tr", {}, el("td", { colspan: 5, class: "muted" }, "no requests yet")));
  body("decisions").replaceChildren(table);
}

const HANDLERS = {
  hello: onHello,
  config: onConfig,
  pools: onPools,
  queues: onQueues,
  traffic: onTraffic,
  decisions: onDecisions,
};

function connect() {
  const status = document.getElementById("status");
  const source = new EventSource("/dashboard/events");
  for (const [type, handle] of Object.entries(HANDLERS))
    source.addEventListener(type, (m) => handle(JSON.parse(m.data)));
  source.addEventListener("open", () => {
    status.dataset.state = "live";
    status.textContent = "live";
  });
  source.addEventListener("error", () => {
    status.dataset.state = "reconnecting";
    status.textContent = "reconnecting…";
  });
}

onDecisions({ decisions: [] });
connect();
