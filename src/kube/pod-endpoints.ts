/**
 * Pods → endpoints: a Pod is an endpoint of every pool in its namespace whose selector its labels
 * match, while it is Ready, has a podIP and is not being deleted. The pool's target port(s) apply
 * (the spec carries no port), so a Pod whose IP stays keeps its endpoint state across changes.
 */
import type { ConfigSnapshot } from "../datastore/config-snapshot.ts";
import type { EndpointSpec } from "../datastore/endpoint-spec.ts";
import { matchesSelector } from "../datastore/selector.ts";

/** The Pod fields this reads (as the API server sends them). */
export interface PodLike {
  readonly metadata?: {
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly deletionTimestamp?: unknown;
  };
  readonly status?: {
    readonly podIP?: string;
    readonly conditions?: readonly { readonly type?: string; readonly status?: string }[];
  };
}

/** Whether the Pod should get requests: Ready=True, a podIP, no deletionTimestamp. */
export function podServes(pod: PodLike): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  if (!pod.status?.podIP) return false;
  return pod.status.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true;
}

/** The endpoint specs of `pods` for the pools of `config`, one per serving Pod selected by any pool. */
export function podEndpoints(pods: readonly PodLike[], config: ConfigSnapshot): EndpointSpec[] {
  const pools = [...config.pools.values()];
  const out: EndpointSpec[] = [];
  for (const pod of pods) {
    const namespace = pod.metadata?.namespace ?? "default";
    const labels = pod.metadata?.labels ?? {};
    if (!pools.some((p) => p.namespace === namespace && matchesSelector(labels, p.selector))) continue;
    if (!podServes(pod)) continue;
    out.push({ host: pod.status!.podIP!, labels: { ...labels }, namespace });
  }
  out.sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
  return out;
}
