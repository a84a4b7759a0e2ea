/**
 * Assembles decoded objects into one ConfigSnapshot: references (poolRef, backendRefs, parentRefs,
 * targetRef), the "oldest wins" rule for model names, EndpointPickerConfig sections. Every problem
 * is a ConfigIssue located in its object's origin (file and line, or the API object). Decoding each
 * object is `decode-object.ts`; reading files is the file source's job (`read-documents.ts`).
 */
import { type TrafficPolicyRecord, toTrafficPolicyRecord } from "../api/backend-traffic-policy.ts";
import { type PickerConfigRecord, toPickerConfigRecord } from "../api/endpoint-picker-config.ts";
import { type GatewayRecord, toGatewayRecord } from "../api/gateway.ts";
import { type RouteRecord, toRouteRules } from "../api/http-route.ts";
import { type ModelRecord, toModelRecord } from "../api/inference-model.ts";
import {
  type PoolRewrites,
  poolRewrites,
  type RewriteRecord,
  toRewriteRecord,
} from "../api/inference-model-rewrite.ts";
import { type ObjectiveRecord, toObjectiveRecord } from "../api/inference-objective.ts";
import { POOL_GROUP_V1, POOL_GROUP_V1ALPHA2, type PoolRecord, toPoolRecord } from "../api/inference-pool.ts";
import type { KnownDoc } from "../api/resources.ts";
import {
  type ConfigSnapshot,
  type IgnoredDocument,
  IMPLICIT_LISTENER_KEY,
} from "../datastore/config-snapshot.ts";
import { pickerConfigIssues } from "../plugins/picker-config-issues.ts";
import { ConfigError, type ConfigIssue, formatIssue } from "./config-error.ts";
import { type DecodedObject, decodeObject } from "./decode-object.ts";
import type { FieldPath } from "./field-issue.ts";
import { type LocatedObject, issueAt as locate, type Origin, positionOf } from "./origin.ts";

/** A decoded object of one kind, with its position among all decoded objects. */
interface Located<T> {
  readonly value: T;
  readonly origin: Origin;
  readonly label: string;
  /** Position among the decoded objects (the "oldest wins" tie-break without timestamps). */
  readonly order: number;
}

/** Options that shape the snapshot. */
export interface BuildOptions {
  /** Port of the implicit listener when no Gateway is configured. */
  readonly defaultPort: number;
}

/** What assembling found: the snapshot, plus cross-object problems and findings, located. */
export interface AssembledConfig {
  readonly config: ConfigSnapshot;
  /** Undefined references, duplicates, bad sections; the objects concerned are left out of `config`. */
  readonly errors: readonly ConfigIssue[];
  readonly warnings: readonly ConfigIssue[];
}

/**
 * Decodes every object and assembles one snapshot, whole or not at all: throws ConfigError listing
 * every problem of every object (the file source's rule). Warnings land in `config.warnings`.
 */
export function buildConfig(objects: readonly LocatedObject[], options: BuildOptions): ConfigSnapshot {
  const errors: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  const decoded: DecodedObject[] = [];
  const ignored: IgnoredDocument[] = [];
  const invalid = new Set<string>();
  for (const o of objects) {
    const r = decodeObject(o);
    warnings.push(...r.warnings);
    if (r.status === "valid") decoded.push(r.decoded);
    else if (r.status === "skipped") ignored.push(r.ignored);
    else {
      errors.push(...r.errors);
      if (r.label !== undefined) invalid.add(r.label);
    }
  }
  const assembled = assembleConfig(decoded, options, { ignored, invalid });
  errors.push(...assembled.errors);
  if (errors.length > 0) throw new ConfigError(errors, [...warnings, ...assembled.warnings]);
  return { ...assembled.config, warnings: [...warnings, ...assembled.warnings].map(formatIssue) };
}

/** What the caller already knows about objects that did not decode. */
export interface AssembleContext {
  /** Documents of kinds the gateway does not read (kept in the snapshot for reporting). */
  readonly ignored?: readonly IgnoredDocument[];
  /** Labels (`Kind ns/name`) of objects that failed to decode: references to them raise no error. */
  readonly invalid?: ReadonlySet<string>;
}

/**
 * Resolves references between decoded objects (poolRef, backendRefs, parentRefs, targetRef),
 * applies "oldest wins" to model names and rewrite rules and checks EndpointPickerConfigs. Never throws: objects
 * with a problem are left out and the problem is returned (a watch-driven source reports them on
 * the object and applies the rest). `decoded` is in source order (older first on ties).
 */
export function assembleConfig(
  decoded: readonly DecodedObject[],
  options: BuildOptions,
  context: AssembleContext = {},
): AssembledConfig {
  const issues: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  const invalid = context.invalid ?? new Set<string>();
  const byKind = new Map<string, Located<KnownDoc>[]>();
  decoded.forEach((d, order) => {
    const list = byKind.get(d.doc.kind) ?? [];
    list.push({ value: d.doc, origin: d.origin, label: d.label, order });
    byKind.set(d.doc.kind, list);
  });

  const issueAt = (src: Located<unknown>, path: FieldPath, object: string, reason: string): void => {
    issues.push(locate(src.origin, path, object, reason));
  };
  const warnAt = (src: Located<unknown>, path: FieldPath, reason: string): void => {
    warnings.push(locate(src.origin, path, src.label, reason));
  };
  const all = <K extends KnownDoc["kind"]>(kind: K): Located<Extract<KnownDoc, { kind: K }>>[] =>
    (byKind.get(kind) ?? []) as Located<Extract<KnownDoc, { kind: K }>>[];

  // Pools.
  const pools = new Map<string, PoolRecord>();
  for (const src of all("InferencePool")) {
    const pool = toPoolRecord(src.value);
    if (pools.has(pool.key)) issueAt(src, ["metadata", "name"], src.label, "is defined twice");
    else pools.set(pool.key, pool);
  }

  /** Whether `poolKey` names a pool; reports it unless the pool itself failed to decode. */
  const poolDefined = (src: Located<unknown>, path: FieldPath, poolKey: string): boolean => {
    if (pools.has(poolKey)) return true;
    if (!invalid.has(`InferencePool ${poolKey}`))
      issueAt(src, path, src.label, `InferencePool ${poolKey} is not defined`);
    return false;
  };
  const checkPoolRef = (
    src: Located<unknown>,
    ref: { group?: string | undefined; kind?: string | undefined },
    poolKey: string,
  ): boolean => {
    if (ref.kind !== undefined && ref.kind !== "InferencePool") {
      issueAt(src, ["spec", "poolRef", "kind"], src.label, `must be InferencePool (found '${ref.kind}')`);
      return false;
    }
    return poolDefined(src, ["spec", "poolRef", "name"], poolKey);
  };

  // Models: modelName unique per pool, oldest wins (creationTimestamp, then position in the files).
  const modelCandidates: { record: ModelRecord; src: Located<unknown> }[] = [];
  for (const src of all("InferenceModel")) {
    const record = toModelRecord(src.value);
    if (checkPoolRef(src, src.value.spec.poolRef, record.poolKey)) modelCandidates.push({ record, src });
  }
  modelCandidates.sort((a, b) =>
    compareAge(a.record.creationTimestamp, a.src.order, b.record.creationTimestamp, b.src.order),
  );
  const models = new Map<string, Map<string, ModelRecord>>();
  for (const { record, src } of modelCandidates) {
    const byName = models.get(record.poolKey) ?? new Map<string, ModelRecord>();
    const owner = byName.get(record.modelName);
    if (owner) {
      warnAt(
        src,
        ["spec", "modelName"],
        `is not accepted (ModelNameInUse): '${record.modelName}' is already served in pool ` +
          `${record.poolKey} by the older InferenceModel ${owner.key}`,
      );
      continue;
    }
    byName.set(record.modelName, record);
    models.set(record.poolKey, byName);
  }

  // Objectives.
  const objectives = new Map<string, Map<string, ObjectiveRecord>>();
  for (const src of all("InferenceObjective")) {
    const record = toObjectiveRecord(src.value);
    if (!checkPoolRef(src, src.value.spec.poolRef, record.poolKey)) continue;
    const byName = objectives.get(record.poolKey) ?? new Map<string, ObjectiveRecord>();
    byName.set(record.name, record);
    objectives.set(record.poolKey, byName);
  }

  // Model rewrites: per pool, exact matches before generic rules, then the oldest object, then rule order.
  const rewriteCandidates: { record: RewriteRecord; order: number }[] = [];
  for (const src of all("InferenceModelRewrite")) {
    const record = toRewriteRecord(src.value);
    if (checkPoolRef(src, src.value.spec.poolRef, record.poolKey))
      rewriteCandidates.push({ record, order: src.order });
  }
  rewriteCandidates.sort((a, b) =>
    compareAge(a.record.creationTimestamp, a.order, b.record.creationTimestamp, b.order),
  );
  const rewrites = new Map<string, PoolRewrites>();
  for (const poolKey of new Set(rewriteCandidates.map((c) => c.record.poolKey)))
    rewrites.set(
      poolKey,
      poolRewrites(rewriteCandidates.filter((c) => c.record.poolKey === poolKey).map((c) => c.record)),
    );

  // Gateways and listeners.
  const gateways: GatewayRecord[] = [];
  for (const src of all("Gateway")) {
    const g = toGatewayRecord(src.value);
    if (gateways.some((x) => x.key === g.key)) {
      issueAt(src, ["metadata", "name"], src.label, "is defined twice");
      continue;
    }
    gateways.push(g);
    g.listeners.forEach((l, i) => {
      if (l.protocol.toUpperCase() !== "HTTP")
        warnAt(
          src,
          ["spec", "listeners", i, "protocol"],
          `is ${l.protocol}, which is not served (only HTTP)`,
        );
    });
  }
  const listeners = gateways.flatMap((g) => g.listeners.filter((l) => l.protocol.toUpperCase() === "HTTP"));
  // A Gateway that failed to decode still "has" listeners: routes attached to it raise no follow-on errors.
  const gatewayKnown = (key: string) => gateways.some((g) => g.key === key) || invalid.has(`Gateway ${key}`);
  if (gateways.length === 0 && ![...invalid].some((l) => l.startsWith("Gateway "))) {
    listeners.push({
      key: IMPLICIT_LISTENER_KEY,
      gatewayKey: "",
      name: "default",
      port: options.defaultPort,
      protocol: "HTTP",
    });
  }

  // Routes.
  const routes: RouteRecord[] = [];
  for (const src of all("HTTPRoute")) {
    const { value } = src;
    const ns = value.metadata.namespace;
    const object = src.label;
    const listenerKeys = new Set<string>();
    if (gateways.length === 0) listenerKeys.add(IMPLICIT_LISTENER_KEY);
    value.spec.parentRefs.forEach((ref, i) => {
      if (gateways.length === 0) return;
      if (ref.kind !== "Gateway") {
        issueAt(src, ["spec", "parentRefs", i, "kind"], object, `must be Gateway (found '${ref.kind}')`);
        return;
      }
      const gwKey = `${ref.namespace ?? ns}/${ref.name}`;
      const gw = gateways.find((g) => g.key === gwKey);
      if (!gw) {
        if (!gatewayKnown(gwKey))
          issueAt(src, ["spec", "parentRefs", i, "name"], object, `Gateway ${gwKey} is not defined`);
        return;
      }
      const matching = gw.listeners.filter(
        (l) =>
          (ref.sectionName === undefined || l.name === ref.sectionName) &&
          (ref.port === undefined || l.port === ref.port),
      );
      if (matching.length === 0) {
        const field = ref.sectionName !== undefined ? "sectionName" : "port";
        issueAt(src, ["spec", "parentRefs", i, field], object, `Gateway ${gwKey} has no such listener`);
      }
      for (const l of matching) listenerKeys.add(l.key);
    });
    if (gateways.length > 0 && value.spec.parentRefs.length === 0)
      warnAt(src, ["spec"], "has no parentRefs: the route is not attached to any Gateway and serves nothing");
    value.spec.rules.forEach((rule, r) => {
      if ((rule.filters?.length ?? 0) > 0)
        warnAt(
          src,
          ["spec", "rules", r, "filters"],
          "are not supported by the standalone gateway and are ignored",
        );
      rule.backendRefs.forEach((b, i) => {
        const path = ["spec", "rules", r, "backendRefs", i];
        if (b.kind !== "InferencePool" || (b.group !== POOL_GROUP_V1ALPHA2 && b.group !== POOL_GROUP_V1)) {
          issueAt(
            src,
            [...path, "kind"],
            object,
            `backendRef ${b.group}/${b.kind} is not supported (InferencePool only)`,
          );
        } else poolDefined(src, [...path, "name"], `${b.namespace ?? ns}/${b.name}`);
      });
    });
    routes.push({
      key: `${ns}/${value.metadata.name}`,
      name: value.metadata.name,
      namespace: ns,
      listenerKeys: [...listenerKeys],
      hostnames: value.spec.hostnames,
      rules: toRouteRules(value),
      ...(value.metadata.creationTimestamp
        ? { creationTimestamp: String(value.metadata.creationTimestamp) }
        : {}),
      order: src.order,
    });
  }
  if (routes.length === 0 && pools.size === 1) {
    const [poolKey] = pools.keys();
    routes.push({
      key: "(implicit)",
      name: "(implicit)",
      namespace: "",
      listenerKeys: listeners.map((l) => l.key),
      hostnames: [],
      rules: [
        {
          index: 0,
          matches: [{ path: { type: "PathPrefix", value: "/" }, headers: [], queryParams: [] }],
          backends: [{ poolKey: poolKey!, weight: 1 }],
        },
      ],
      order: -1,
    });
  } else if (routes.length === 0 && pools.size > 1) {
    warnings.push({
      file: "",
      line: 0,
      field: "",
      object: "",
      reason: "no HTTPRoute and several InferencePools: every request will get 404 (no route)",
    });
  }
  routes.sort(
    (a, b) =>
      compareAge(a.creationTimestamp, a.order, b.creationTimestamp, b.order) ||
      (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
  );

  // Policies.
  const policies: TrafficPolicyRecord[] = [];
  for (const src of all("BackendTrafficPolicy")) {
    const p = toTrafficPolicyRecord(src.value);
    for (const t of p.targets) {
      const [kind, ...rest] = t.split("/");
      const key = rest.join("/");
      const known =
        kind === "Gateway"
          ? gateways.some((g) => g.key === key)
          : kind === "HTTPRoute" && routes.some((r) => r.key === key);
      if (!known) warnAt(src, ["spec"], `targets ${t}, which is not defined; the policy has no effect on it`);
    }
    policies.push(p);
  }

  const pickerDocs = all("EndpointPickerConfig");
  for (const { doc, issue } of pickerConfigIssues(pickerDocs.map((d) => d.value))) {
    const src = pickerDocs[doc]!;
    issueAt(src, [...issue.path], src.label, issue.message);
  }
  const pickerConfigs: PickerConfigRecord[] = pickerDocs.map(({ value, origin }) =>
    toPickerConfigRecord(value, positionOf(origin)),
  );

  return {
    config: {
      pools,
      models,
      objectives,
      rewrites,
      gateways,
      listeners,
      routes,
      policies,
      pickerConfigs,
      ignored: context.ignored ?? [],
      warnings: warnings.map(formatIssue),
    },
    errors: issues,
    warnings,
  };
}

/** Oldest first: by creationTimestamp when both have one, else by position in the files. */
function compareAge(ta: string | undefined, oa: number, tb: string | undefined, ob: number): number {
  if (ta !== undefined && tb !== undefined) {
    const d = Date.parse(ta) - Date.parse(tb);
    if (d !== 0 && !Number.isNaN(d)) return d;
  }
  return oa - ob;
}
