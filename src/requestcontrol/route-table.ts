/**
 * Stage 2, route: HTTPRoute matching with Gateway API precedence. Across all rules of the routes
 * attached to a listener: hostname-bound routes first, then Exact path > RegularExpression path >
 * longest PathPrefix, then method match, most header matches, most query matches; then the oldest
 * route, then `namespace/name`, then rule and match order. Regexes match the whole value, with RE2
 * semantics in linear time (`api/route-regex.ts`).
 */
import type {
  RouteBackendRecord,
  RouteMatchRecord,
  RouteRecord,
  RouteRuleRecord,
} from "../api/http-route.ts";
import { compileRouteRegex } from "../api/route-regex.ts";

interface CompiledMatch {
  readonly route: RouteRecord;
  readonly rule: RouteRuleRecord;
  readonly listenerKeys: ReadonlySet<string>;
  readonly test: (req: RoutableRequest) => boolean;
  /** The path test alone, when the match names a path (undefined: the implicit `PathPrefix /`). */
  readonly pathTest: ((path: string) => boolean) | undefined;
  readonly rank: readonly number[];
}

/** What routing looks at. Header names lower-cased. */
export interface RoutableRequest {
  readonly method: string;
  readonly path: string;
  readonly host?: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The parsed query string (parsed on first use: only query matches need it). */
  query(): URLSearchParams;
}

export interface RouteMatch {
  readonly route: RouteRecord;
  readonly rule: RouteRuleRecord;
  /** The match names a path (Exact, RegularExpression, or a PathPrefix other than `/`). */
  readonly namesPath: boolean;
}

/** Compiled routes of one ConfigSnapshot; build once per snapshot. */
export class RouteTable {
  readonly #matches: CompiledMatch[];

  constructor(routes: readonly RouteRecord[]) {
    const list: { m: CompiledMatch; seq: number }[] = [];
    for (const route of routes) {
      const hostTest = hostnameTest(route.hostnames);
      for (const rule of route.rules) {
        for (const match of rule.matches) {
          const pathTest = compilePathTest(match);
          const test = compileMatch(match, pathTest);
          list.push({
            m: {
              route,
              rule,
              listenerKeys: new Set(route.listenerKeys),
              test: hostTest ? (r) => hostTest(r.host) && test(r) : test,
              pathTest,
              rank: rankOf(route, match),
            },
            seq: list.length,
          });
        }
      }
    }
    list.sort((a, b) => compareRank(a.m.rank, b.m.rank) || a.seq - b.seq);
    this.#matches = list.map((x) => x.m);
  }

  /** The winning route rule for a request on one of `listenerKeys`, or undefined (→ 404). */
  match(listenerKeys: readonly string[], req: RoutableRequest): RouteMatch | undefined {
    for (const m of this.#matches) {
      if (!listenerKeys.some((k) => m.listenerKeys.has(k))) continue;
      if (m.test(req)) return { route: m.route, rule: m.rule, namesPath: m.pathTest !== undefined };
    }
    return undefined;
  }

  /** Whether a rule on one of `listenerKeys` names `path` by a path match (headers not looked at). */
  namesPath(listenerKeys: readonly string[], path: string): boolean {
    for (const m of this.#matches)
      if (m.pathTest?.(path) && listenerKeys.some((k) => m.listenerKeys.has(k))) return true;
    return false;
  }
}

/** Weighted draw over a rule's backends (weight 0 never chosen); undefined when all weights are 0. */
export function pickBackend(
  backends: readonly RouteBackendRecord[],
  random: () => number = Math.random,
): RouteBackendRecord | undefined {
  if (backends.length === 1) return backends[0]!.weight > 0 ? backends[0] : undefined;
  const total = backends.reduce((s, b) => s + b.weight, 0);
  if (total <= 0) return undefined;
  let r = random() * total;
  for (const b of backends) {
    r -= b.weight;
    if (r < 0) return b;
  }
  return backends.findLast((b) => b.weight > 0);
}

function rankOf(route: RouteRecord, m: RouteMatchRecord): number[] {
  const pathKind = m.path.type === "Exact" ? 3 : m.path.type === "RegularExpression" ? 2 : 1;
  const prefixLen = m.path.type === "PathPrefix" ? normalisePrefix(m.path.value).length : 0;
  return [
    route.hostnames.length > 0 ? 1 : 0,
    pathKind,
    prefixLen,
    m.method ? 1 : 0,
    m.headers.length,
    m.queryParams.length,
  ];
}

/** Higher rank first. */
function compareRank(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return b[i]! - a[i]!;
  return 0;
}

function normalisePrefix(p: string): string {
  return p.length > 1 && p.endsWith("/") ? p.slice(0, -1) : p;
}

function valueTest(
  type: "Exact" | "RegularExpression",
  value: string,
): (v: string | null | undefined) => boolean {
  if (type === "Exact") return (v) => v === value;
  const matches = compileRouteRegex(value);
  return (v) => v !== undefined && v !== null && matches(v);
}

/** The path part of a match; undefined for `PathPrefix /` (every path). */
function compilePathTest(m: RouteMatchRecord): ((path: string) => boolean) | undefined {
  const { type, value } = m.path;
  if (type === "Exact") return (p) => p === value;
  if (type === "RegularExpression") return compileRouteRegex(value);
  const prefix = normalisePrefix(value);
  if (prefix === "/") return undefined;
  return (p) => p === prefix || p.startsWith(`${prefix}/`);
}

function compileMatch(
  m: RouteMatchRecord,
  pathTest: ((path: string) => boolean) | undefined,
): (req: RoutableRequest) => boolean {
  const tests: ((req: RoutableRequest) => boolean)[] = [];
  if (pathTest) tests.push((r) => pathTest(r.path));
  if (m.method) tests.push((r) => r.method === m.method);
  for (const h of m.headers) {
    const name = h.name.toLowerCase();
    const t = valueTest(h.type, h.value);
    tests.push((r) => t(r.headers[name]));
  }
  for (const q of m.queryParams) {
    const t = valueTest(q.type, q.value);
    tests.push((r) => t(r.query().get(q.name)));
  }
  return (req) => tests.every((t) => t(req));
}

function hostnameTest(hostnames: readonly string[]): ((host: string | undefined) => boolean) | undefined {
  if (hostnames.length === 0) return undefined;
  const tests = hostnames.map((h) => {
    const lower = h.toLowerCase();
    if (lower.startsWith("*.")) {
      const suffix = lower.slice(1);
      return (host: string) => host.endsWith(suffix) && host.length > suffix.length;
    }
    return (host: string) => host === lower;
  });
  return (host) => {
    if (host === undefined) return false;
    const bare = host.toLowerCase().replace(/:\d+$/, "");
    return tests.some((t) => t(bare));
  };
}
