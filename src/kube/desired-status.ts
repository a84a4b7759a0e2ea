/**
 * The status igw reports, computed from one view of the cluster (pure; `status-writer.ts` writes
 * it). For the Gateways it serves (`servedGateways`): Gateway Accepted/Programmed and per-listener
 * conditions; HTTPRoute `status.parents[]` entries for those Gateways; InferencePool
 * `status.parent[]` (v1alpha2) / `status.parents[]` (v1) Accepted and ResolvedRefs per Gateway;
 * InferenceModel, InferenceObjective and InferenceModelRewrite Accepted. Entries of other controllers are kept; a
 * condition whose status, reason and message stay keeps its lastTransitionTime, so an unchanged
 * object computes to exactly its current status.
 */
import type { Condition } from "../api/status.ts";
import type { ConfigSnapshot } from "../datastore/config-snapshot.ts";
import type { ApiObject, ObjectVerdict } from "./cluster-config.ts";
import { formatIssueText } from "./issue-text.ts";

/** igw's controller name, in HTTPRoute and v1 InferencePool status entries. */
export const CONTROLLER_NAME = "inference-gateway.dev/igw";

const GW_GROUP = "gateway.networking.k8s.io";

/** One status to write: the object (apiVersion, kind, namespace, name) and its whole new `status`. */
export interface StatusWrite {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly resourceVersion: string;
  readonly status: Record<string, unknown>;
}

export interface StatusInput {
  readonly config: ConfigSnapshot;
  readonly verdicts: readonly ObjectVerdict[];
  /** The raw objects, as last seen (current status, spec parentRefs, generation). */
  readonly objects: readonly ApiObject[];
  /** `--gateway-class`; undefined: the Gateways the valid routes attach to. */
  readonly gatewayClass?: string;
  /** Whether to report on Gateways, HTTPRoutes and pool parents (false in epp mode: the gateway owns them). */
  readonly gatewayStatus: boolean;
  readonly now: string;
}

interface RawObject extends ApiObject {
  readonly spec?: Record<string, unknown>;
  readonly status?: Record<string, unknown>;
}

type ParentRef = { group?: string; kind?: string; namespace?: string; name: string; sectionName?: string };

const keyOf = (o: ApiObject) => `${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;

/** The Gateways (`ns/name`) igw serves in this view. */
export function servedGateways(input: Pick<StatusInput, "config" | "objects" | "gatewayClass">): Set<string> {
  const { config, objects, gatewayClass } = input;
  if (gatewayClass !== undefined)
    return new Set(
      objects
        .filter((o) => o.kind === "Gateway")
        .filter((o) => (o as RawObject).spec?.["gatewayClassName"] === gatewayClass)
        .map(keyOf),
    );
  const gatewayOf = new Map(config.listeners.map((l) => [l.key, l.gatewayKey]));
  const out = new Set<string>();
  for (const r of config.routes)
    for (const l of r.listenerKeys) {
      const g = gatewayOf.get(l);
      if (g) out.add(g);
    }
  return out;
}

/** Every status write the view calls for (unchanged ones included; the writer skips those). */
export function desiredStatuses(input: StatusInput): StatusWrite[] {
  const { config, verdicts, objects, now } = input;
  const served = servedGateways(input);
  const verdictOf = new Map(verdicts.map((v) => [v.ref.uid, v]));
  const problems = (o: ApiObject) => verdictOf.get(o.metadata?.uid ?? "")?.errors ?? [];
  const out: StatusWrite[] = [];
  const write = (o: RawObject, status: Record<string, unknown>) =>
    out.push({
      apiVersion: o.apiVersion ?? "",
      kind: o.kind ?? "",
      namespace: o.metadata?.namespace ?? "",
      name: o.metadata?.name ?? "",
      resourceVersion: o.metadata?.resourceVersion ?? "",
      status,
    });
  const cond = (
    o: RawObject,
    previous: unknown,
    type: string,
    ok: boolean,
    reason: string,
    message: string,
  ) => condition(previous, type, ok, reason, message, o.metadata?.generation, now);

  // Which served Gateways reach each pool, through valid routes.
  const gatewayOf = new Map(config.listeners.map((l) => [l.key, l.gatewayKey]));
  const poolParents = new Map<string, Set<string>>();
  const attached = new Map<string, number>();
  for (const r of config.routes) {
    const gws = new Set(r.listenerKeys.map((l) => gatewayOf.get(l)).filter((g) => g !== undefined));
    for (const l of r.listenerKeys) attached.set(l, (attached.get(l) ?? 0) + 1);
    for (const rule of r.rules)
      for (const b of rule.backends)
        for (const g of gws)
          if (served.has(g)) poolParents.set(b.poolKey, new Set([...(poolParents.get(b.poolKey) ?? []), g]));
  }

  for (const raw of objects) {
    const o = raw as RawObject;
    const errors = problems(o);
    const message = errors.map(formatIssueText).join("; ");
    const status = o.status ?? {};
    if (o.kind === "Gateway" && input.gatewayStatus && served.has(keyOf(o))) {
      const ok = errors.length === 0;
      const gw = config.gateways.find((g) => g.key === keyOf(o));
      const listeners = (
        (o.spec?.["listeners"] as { name: string; protocol: string }[] | undefined) ?? []
      ).map((l) => {
        const previous = (status["listeners"] as { name: string; conditions?: unknown }[] | undefined)?.find(
          (p) => p.name === l.name,
        )?.conditions;
        const http = l.protocol.toUpperCase() === "HTTP";
        const live = ok && http && gw !== undefined;
        const why = !ok ? message : http ? "" : `protocol ${l.protocol} is not served (only HTTP)`;
        return {
          name: l.name,
          supportedKinds: http ? [{ group: GW_GROUP, kind: "HTTPRoute" }] : [],
          attachedRoutes: attached.get(`${keyOf(o)}/${l.name}`) ?? 0,
          conditions: [
            cond(
              o,
              previous,
              "Accepted",
              live,
              live ? "Accepted" : http ? "Invalid" : "UnsupportedProtocol",
              why,
            ),
            cond(o, previous, "Programmed", live, live ? "Programmed" : "Invalid", why),
            cond(o, previous, "ResolvedRefs", http, http ? "ResolvedRefs" : "InvalidRouteKinds", why),
          ],
        };
      });
      write(o, {
        ...status,
        conditions: [
          cond(o, status["conditions"], "Accepted", ok, ok ? "Accepted" : "Invalid", message),
          cond(o, status["conditions"], "Programmed", ok, ok ? "Programmed" : "Invalid", message),
        ],
        listeners,
      });
    } else if (o.kind === "HTTPRoute" && input.gatewayStatus) {
      const ns = o.metadata?.namespace ?? "default";
      const refs = ((o.spec?.["parentRefs"] as ParentRef[] | undefined) ?? []).filter(
        (p) => (p.kind ?? "Gateway") === "Gateway" && served.has(`${p.namespace ?? ns}/${p.name}`),
      );
      if (refs.length === 0) continue;
      const previous =
        (status["parents"] as { parentRef: ParentRef; controllerName?: string; conditions?: unknown }[]) ??
        [];
      const others = previous.filter((p) => p.controllerName !== CONTROLLER_NAME);
      const ok = errors.length === 0;
      const unresolved = errors.some((e) => e.field.includes("backendRefs"));
      const mine = refs.map((ref) => {
        const before = previous.find(
          (p) => p.controllerName === CONTROLLER_NAME && sameRef(p.parentRef, ref, ns),
        );
        return {
          parentRef: { group: GW_GROUP, kind: "Gateway", ...ref },
          controllerName: CONTROLLER_NAME,
          conditions: [
            cond(o, before?.conditions, "Accepted", ok, ok ? "Accepted" : "UnsupportedValue", message),
            cond(
              o,
              before?.conditions,
              "ResolvedRefs",
              !unresolved,
              unresolved ? "BackendNotFound" : "ResolvedRefs",
              unresolved ? message : "",
            ),
          ],
        };
      });
      write(o, { ...status, parents: [...others, ...mine] });
    } else if (o.kind === "InferencePool" && input.gatewayStatus) {
      const gateways = [...(poolParents.get(keyOf(o)) ?? [])].sort();
      if (gateways.length === 0) continue;
      const v1 = o.apiVersion === "inference.networking.k8s.io/v1";
      const field = v1 ? "parents" : "parent";
      const previous = (
        (status[field] as { parentRef: ParentRef; conditions?: unknown }[] | undefined) ?? []
      ).filter((p) => p.parentRef.kind !== "Status");
      const isOurs = (p: { parentRef: ParentRef }) =>
        (p.parentRef.kind ?? "Gateway") === "Gateway" &&
        gateways.includes(`${p.parentRef.namespace ?? o.metadata?.namespace}/${p.parentRef.name}`);
      const ok = errors.length === 0;
      const mine = gateways.map((g) => {
        const [namespace, name] = g.split("/") as [string, string];
        const before = previous.find((p) => isOurs(p) && p.parentRef.name === name)?.conditions;
        return {
          parentRef: { group: GW_GROUP, kind: "Gateway", name, namespace },
          ...(v1 ? { controllerName: CONTROLLER_NAME } : {}),
          conditions: [
            cond(o, before, "Accepted", ok, ok ? "Accepted" : "Invalid", message),
            cond(o, before, "ResolvedRefs", ok, ok ? "ResolvedRefs" : "InvalidExtensionRef", message),
          ],
        };
      });
      write(o, { ...status, [field]: [...previous.filter((p) => !isOurs(p)), ...mine] });
    } else if (
      o.kind === "InferenceModel" ||
      o.kind === "InferenceObjective" ||
      o.kind === "InferenceModelRewrite"
    ) {
      const warnings = verdictOf.get(o.metadata?.uid ?? "")?.warnings ?? [];
      const inUse = warnings.find((w) => w.reason.includes("(ModelNameInUse)"));
      const ok = errors.length === 0 && inUse === undefined;
      const reason = errors.length > 0 ? "Invalid" : inUse ? "ModelNameInUse" : "Accepted";
      const text = errors.length > 0 ? message : inUse ? formatIssueText(inUse) : "";
      write(o, { ...status, conditions: [cond(o, status["conditions"], "Accepted", ok, reason, text)] });
    }
  }
  return out;
}

function sameRef(a: ParentRef, b: ParentRef, ns: string): boolean {
  return (
    a.name === b.name &&
    (a.namespace ?? ns) === (b.namespace ?? ns) &&
    (a.sectionName ?? "") === (b.sectionName ?? "")
  );
}

/** A condition; the previous one's lastTransitionTime when its status is the same. */
function condition(
  previous: unknown,
  type: string,
  ok: boolean,
  reason: string,
  message: string,
  generation: number | undefined,
  now: string,
): Condition {
  const status = ok ? "True" : "False";
  const before = Array.isArray(previous)
    ? (previous as Condition[]).find((c) => c.type === type && c.status === status)
    : undefined;
  return {
    type,
    status,
    reason,
    message: message.length > 32_000 ? `${message.slice(0, 31_999)}…` : message,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    lastTransitionTime: before?.lastTransitionTime ?? now,
  };
}
