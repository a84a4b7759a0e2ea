/**
 * Validates parsed manifests and assembles a ConfigSnapshot: schema per kind, then references
 * (poolRef, backendRefs, parentRefs), then the "oldest wins" rule for model names. Every problem
 * becomes a ConfigIssue with file, line, field and reason; any issue makes the whole load fail.
 */
import { type TrafficPolicyRecord, toTrafficPolicyRecord } from "../api/backend-traffic-policy.ts";
import { type PickerConfigRecord, toPickerConfigRecord } from "../api/endpoint-picker-config.ts";
import { type GatewayRecord, type ListenerRecord, toGatewayRecord } from "../api/gateway.ts";
import { type HttpRouteDoc, type RouteRecord, toRouteRules } from "../api/http-route.ts";
import { type ModelRecord, toModelRecord } from "../api/inference-model.ts";
import { type ObjectiveRecord, toObjectiveRecord } from "../api/inference-objective.ts";
import { POOL_GROUP_V1, POOL_GROUP_V1ALPHA2, type PoolRecord, toPoolRecord } from "../api/inference-pool.ts";
import { schemaFor, supportedApiVersions } from "../api/resources.ts";
import {
  type ConfigSnapshot,
  type IgnoredDocument,
  IMPLICIT_LISTENER_KEY,
} from "../datastore/config-snapshot.ts";
import { pickerConfigIssues } from "../plugins/picker-config-issues.ts";
import { ConfigError, type ConfigIssue } from "./config-error.ts";
import { formatPath, lineAt, readDocuments, type SourceDocument } from "./read-documents.ts";

/** Options that shape the snapshot. */
export interface BuildOptions {
  /** Port of the implicit listener when no Gateway is configured. */
  readonly defaultPort: number;
}

interface Located<T> {
  readonly value: T;
  readonly src: SourceDocument;
}

/** Reads and validates the manifests at `paths`; throws ConfigError listing every problem. */
export function loadConfig(paths: readonly string[], options: BuildOptions): ConfigSnapshot {
  return buildConfig(readDocuments(paths), options);
}

/** Validates already-parsed documents; throws ConfigError listing every problem. */
export function buildConfig(docs: readonly SourceDocument[], options: BuildOptions): ConfigSnapshot {
  const issues: ConfigIssue[] = [];
  const warnings: string[] = [];
  const ignored: IgnoredDocument[] = [];
  const byKind = new Map<string, Located<unknown>[]>();

  for (const src of docs) {
    const v = src.value;
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
      issues.push({
        file: src.file,
        line: lineAt(src, []),
        field: "",
        object: "",
        reason: "a manifest must be a mapping",
      });
      continue;
    }
    const { apiVersion, kind, metadata } = v as {
      apiVersion?: unknown;
      kind?: unknown;
      metadata?: { name?: unknown };
    };
    if (typeof kind !== "string" || typeof apiVersion !== "string") {
      const field = typeof kind !== "string" ? "kind" : "apiVersion";
      issues.push({
        file: src.file,
        line: lineAt(src, []),
        field,
        object: "",
        reason: `${field} is required`,
      });
      continue;
    }
    const name = typeof metadata?.name === "string" ? metadata.name : "";
    const schema = schemaFor(apiVersion, kind);
    if (!schema) {
      const versions = supportedApiVersions(kind);
      if (versions.length > 0) {
        issues.push({
          file: src.file,
          line: lineAt(src, ["apiVersion"]),
          field: "apiVersion",
          object: `${kind} ${name}`.trim(),
          reason: `unsupported apiVersion "${apiVersion}" (supported: ${versions.join(", ")})`,
        });
      } else {
        ignored.push({ apiVersion, kind, name, source: { file: src.file, line: lineAt(src, []) } });
      }
      continue;
    }
    const parsed = schema.safeParse(v);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        issues.push({
          file: src.file,
          line: lineAt(src, issue.path),
          field: formatPath(issue.path),
          object: `${kind} ${name}`.trim(),
          reason: issue.message,
        });
      }
      continue;
    }
    const list = byKind.get(kind) ?? [];
    list.push({ value: parsed.data, src });
    byKind.set(kind, list);
  }

  const issueAt = (src: SourceDocument, path: PropertyKey[], object: string, reason: string): void => {
    issues.push({ file: src.file, line: lineAt(src, path), field: formatPath(path), object, reason });
  };
  const all = <T>(kind: string): Located<T>[] => (byKind.get(kind) ?? []) as Located<T>[];

  // Pools.
  const pools = new Map<string, PoolRecord>();
  for (const { value, src } of all<Parameters<typeof toPoolRecord>[0]>("InferencePool")) {
    const pool = toPoolRecord(value);
    if (pools.has(pool.key)) issueAt(src, ["metadata", "name"], `InferencePool ${pool.key}`, "defined twice");
    else pools.set(pool.key, pool);
  }

  const checkPoolRef = (
    src: SourceDocument,
    ref: { group?: string | undefined; kind?: string | undefined },
    poolKey: string,
    object: string,
  ): boolean => {
    if (ref.kind !== undefined && ref.kind !== "InferencePool") {
      issueAt(src, ["spec", "poolRef", "kind"], object, `poolRef must be an InferencePool, not ${ref.kind}`);
      return false;
    }
    if (!pools.has(poolKey)) {
      issueAt(src, ["spec", "poolRef", "name"], object, `InferencePool ${poolKey} is not defined`);
      return false;
    }
    return true;
  };

  // Models: modelName unique per pool, oldest wins (creationTimestamp, then position in the files).
  const modelCandidates: { record: ModelRecord; order: number }[] = [];
  for (const { value, src } of all<Parameters<typeof toModelRecord>[0]>("InferenceModel")) {
    const record = toModelRecord(value);
    if (checkPoolRef(src, value.spec.poolRef, record.poolKey, `InferenceModel ${record.key}`))
      modelCandidates.push({ record, order: src.order });
  }
  modelCandidates.sort((a, b) =>
    compareAge(a.record.creationTimestamp, a.order, b.record.creationTimestamp, b.order),
  );
  const models = new Map<string, Map<string, ModelRecord>>();
  for (const { record } of modelCandidates) {
    const byName = models.get(record.poolKey) ?? new Map<string, ModelRecord>();
    const owner = byName.get(record.modelName);
    if (owner) {
      warnings.push(
        `InferenceModel ${record.key} not accepted (ModelNameInUse): modelName "${record.modelName}" ` +
          `is already served in pool ${record.poolKey} by the older InferenceModel ${owner.key}`,
      );
      continue;
    }
    byName.set(record.modelName, record);
    models.set(record.poolKey, byName);
  }

  // Objectives.
  const objectives = new Map<string, Map<string, ObjectiveRecord>>();
  for (const { value, src } of all<Parameters<typeof toObjectiveRecord>[0]>("InferenceObjective")) {
    const record = toObjectiveRecord(value);
    if (!checkPoolRef(src, value.spec.poolRef, record.poolKey, `InferenceObjective ${record.key}`)) continue;
    const byName = objectives.get(record.poolKey) ?? new Map<string, ObjectiveRecord>();
    byName.set(record.name, record);
    objectives.set(record.poolKey, byName);
  }

  // Gateways and listeners.
  const gateways: GatewayRecord[] = [];
  for (const { value, src } of all<Parameters<typeof toGatewayRecord>[0]>("Gateway")) {
    const g = toGatewayRecord(value);
    if (gateways.some((x) => x.key === g.key))
      issueAt(src, ["metadata", "name"], `Gateway ${g.key}`, "defined twice");
    else gateways.push(g);
  }
  const listeners: ListenerRecord[] = [];
  for (const g of gateways) {
    for (const l of g.listeners) {
      if (l.protocol.toUpperCase() === "HTTP") listeners.push(l);
      else
        warnings.push(
          `Gateway ${g.key} listener ${l.name}: protocol ${l.protocol} is not served (only HTTP)`,
        );
    }
  }
  if (gateways.length === 0) {
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
  for (const { value, src } of all<HttpRouteDoc>("HTTPRoute")) {
    const ns = value.metadata.namespace;
    const object = `HTTPRoute ${ns}/${value.metadata.name}`;
    const listenerKeys = new Set<string>();
    if (gateways.length === 0) listenerKeys.add(IMPLICIT_LISTENER_KEY);
    value.spec.parentRefs.forEach((ref, i) => {
      if (gateways.length === 0) return;
      if (ref.kind !== "Gateway") {
        issueAt(
          src,
          ["spec", "parentRefs", i, "kind"],
          object,
          `parentRef kind ${ref.kind} is not supported (Gateway only)`,
        );
        return;
      }
      const gwKey = `${ref.namespace ?? ns}/${ref.name}`;
      const gw = gateways.find((g) => g.key === gwKey);
      if (!gw) {
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
      warnings.push(`${object} has no parentRefs: it is not attached to any Gateway and serves nothing`);
    value.spec.rules.forEach((rule, r) => {
      if ((rule.filters?.length ?? 0) > 0)
        warnings.push(
          `${object} rule ${r}: filters are not supported by the standalone gateway and are ignored`,
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
        } else if (!pools.has(`${b.namespace ?? ns}/${b.name}`)) {
          issueAt(
            src,
            [...path, "name"],
            object,
            `InferencePool ${b.namespace ?? ns}/${b.name} is not defined`,
          );
        }
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
    warnings.push("no HTTPRoute and several InferencePools: every request will get 404 (no route)");
  }
  routes.sort(
    (a, b) =>
      compareAge(a.creationTimestamp, a.order, b.creationTimestamp, b.order) ||
      (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
  );

  // Policies.
  const policies: TrafficPolicyRecord[] = [];
  for (const { value } of all<Parameters<typeof toTrafficPolicyRecord>[0]>("BackendTrafficPolicy")) {
    const p = toTrafficPolicyRecord(value);
    for (const t of p.targets) {
      const [kind, ...rest] = t.split("/");
      const key = rest.join("/");
      const known =
        kind === "Gateway"
          ? gateways.some((g) => g.key === key)
          : kind === "HTTPRoute" && routes.some((r) => r.key === key);
      if (!known)
        warnings.push(
          `BackendTrafficPolicy ${p.key}: target ${t} is not defined; the policy has no effect on it`,
        );
    }
    policies.push(p);
  }

  const pickerDocs = all<Parameters<typeof toPickerConfigRecord>[0]>("EndpointPickerConfig");
  for (const { doc, issue } of pickerConfigIssues(pickerDocs.map((d) => d.value))) {
    const { value, src } = pickerDocs[doc]!;
    issueAt(src, [...issue.path], `EndpointPickerConfig ${value.metadata?.name ?? ""}`.trim(), issue.message);
  }
  const pickerConfigs: PickerConfigRecord[] = pickerDocs.map(({ value, src }) =>
    toPickerConfigRecord(value, { file: src.file, line: lineAt(src, []) }),
  );

  if (issues.length > 0) throw new ConfigError(issues);
  return {
    pools,
    models,
    objectives,
    gateways,
    listeners,
    routes,
    policies,
    pickerConfigs,
    ignored,
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
