import assert from "node:assert/strict";
import { test } from "node:test";
import type { RouteMatchRecord, RouteRecord } from "../../src/api/http-route.ts";
import { pickBackend, type RoutableRequest, RouteTable } from "../../src/requestcontrol/route-table.ts";

const L = "default/gw/web";

function route(
  name: string,
  matches: Partial<RouteMatchRecord>[],
  opts: Partial<RouteRecord> = {},
): RouteRecord {
  return {
    key: `default/${name}`,
    name,
    namespace: "default",
    listenerKeys: [L],
    hostnames: [],
    rules: [
      {
        index: 0,
        matches: matches.map((m) => ({
          path: { type: "PathPrefix", value: "/" },
          headers: [],
          queryParams: [],
          ...m,
        })),
        backends: [{ poolKey: `default/${name}`, weight: 1 }],
      },
    ],
    order: 0,
    ...opts,
  };
}

function req(over: Partial<RoutableRequest> = {}): RoutableRequest {
  return {
    method: "POST",
    path: "/v1/completions",
    headers: {},
    query: () => new URLSearchParams(),
    ...over,
  };
}

const winner = (t: RouteTable, r: RoutableRequest) => t.match([L], r)?.route.name;

test("the seed's header matches: Exact and whole-value RegularExpression, names case-insensitive", () => {
  const t = new RouteTable([
    route("llm", [
      { headers: [{ type: "Exact", name: "X-Gateway-Model-Name", value: "qwen" }] },
      { headers: [{ type: "RegularExpression", name: "X-Gateway-Model-Name", value: "travel-helper.*" }] },
    ]),
  ]);
  assert.equal(winner(t, req({ headers: { "x-gateway-model-name": "qwen" } })), "llm");
  assert.equal(winner(t, req({ headers: { "x-gateway-model-name": "travel-helper" } })), "llm");
  assert.equal(winner(t, req({ headers: { "x-gateway-model-name": "my-travel-helper" } })), undefined);
  assert.equal(winner(t, req({ headers: { "x-gateway-model-name": "qwen2" } })), undefined);
  assert.equal(winner(t, req()), undefined);
});

test("precedence: Exact path, then longest prefix, then method, then most headers, then query params", () => {
  const t = new RouteTable([
    route("prefix-root", [{}]),
    route("prefix-v1", [{ path: { type: "PathPrefix", value: "/v1/" } }]),
    route("exact", [{ path: { type: "Exact", value: "/v1/chat/completions" } }]),
    route("method", [{ path: { type: "PathPrefix", value: "/v1" }, method: "POST" }]),
    route("headers", [
      {
        path: { type: "PathPrefix", value: "/v1" },
        method: "POST",
        headers: [{ type: "Exact", name: "x-tier", value: "gold" }],
      },
    ]),
    route("query", [
      {
        path: { type: "PathPrefix", value: "/v1" },
        method: "POST",
        headers: [{ type: "Exact", name: "x-tier", value: "gold" }],
        queryParams: [{ type: "Exact", name: "debug", value: "1" }],
      },
    ]),
  ]);
  assert.equal(winner(t, req({ path: "/v1/chat/completions" })), "exact");
  assert.equal(winner(t, req({ method: "GET" })), "prefix-v1");
  assert.equal(winner(t, req()), "method");
  assert.equal(winner(t, req({ headers: { "x-tier": "gold" } })), "headers");
  assert.equal(
    winner(t, req({ headers: { "x-tier": "gold" }, query: () => new URLSearchParams("debug=1") })),
    "query",
  );
  assert.equal(winner(t, req({ path: "/v1x" })), "prefix-root", "prefixes match whole path segments");
});

test("ties go to the route listed first (routes come sorted oldest first) and only attached listeners count", () => {
  const a = route("a", [{}]);
  const b = route("b", [{}]);
  assert.equal(winner(new RouteTable([a, b]), req()), "a");
  assert.equal(winner(new RouteTable([b, a]), req()), "b");
  const other = route("other", [{}], { listenerKeys: ["default/gw/admin"] });
  assert.equal(winner(new RouteTable([other]), req()), undefined);
});

test("hostnames restrict a route; exact and wildcard names", () => {
  const t = new RouteTable([route("any", [{}]), route("host", [{}], { hostnames: ["*.example.com"] })]);
  assert.equal(winner(t, req({ host: "api.example.com:8081" })), "host");
  assert.equal(winner(t, req({ host: "example.com" })), "any");
});

test("weighted backends: weight 0 is never chosen; the draw follows the weights", () => {
  const backends = [
    { poolKey: "a", weight: 1 },
    { poolKey: "b", weight: 3 },
    { poolKey: "c", weight: 0 },
  ];
  assert.equal(pickBackend(backends, () => 0.2)?.poolKey, "a");
  assert.equal(pickBackend(backends, () => 0.3)?.poolKey, "b");
  assert.equal(pickBackend(backends, () => 0.999)?.poolKey, "b");
  assert.equal(pickBackend([{ poolKey: "z", weight: 0 }]), undefined);
});

test("RegularExpression matches have RE2 semantics: whole value, RE2 syntax, linear time on hostile values", () => {
  const t = new RouteTable([
    route("re2", [{ headers: [{ type: "RegularExpression", name: "m", value: "([a-z]+-?)+-v[0-9]+" }] }]),
    route("named", [{ path: { type: "RegularExpression", value: "/v1/(?P<api>chat/)?completions" } }]),
  ]);
  assert.equal(winner(t, req({ path: "/other", headers: { m: "travel-helper-v1" } })), "re2");
  assert.equal(
    winner(t, req({ path: "/other", headers: { m: "travel-helper-v1 and more" } })),
    undefined,
    "the whole value must match",
  );
  // 4,000 characters that a backtracking engine would need astronomically long for.
  assert.equal(winner(t, req({ path: "/other", headers: { m: `${"a".repeat(4000)}!` } })), undefined);
  assert.equal(winner(t, req({ path: "/v1/chat/completions" })), "named", "RE2's (?P<name>…) groups");
  // A body-derived model header can be megabytes long: past 16 KiB no regex is run on it.
  const huge = `${"a".repeat(20_000)}-v1`;
  assert.equal(winner(t, req({ path: "/other", headers: { m: huge } })), undefined);
  assert.equal(winner(t, req({ path: "/other", headers: { m: huge.slice(-16_000) } })), "re2");
});
