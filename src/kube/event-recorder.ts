/**
 * Kubernetes Events about configuration objects (core/v1 Event, type Warning), so that
 * `kubectl describe` shows why an object is not applied. Each distinct message is recorded once
 * per object (the last 16 remembered); a failed write is logged, never thrown.
 */
import { hostname } from "node:os";
import type { CoreV1Api } from "@kubernetes/client-node";
import type { ObjectRef } from "../config/origin.ts";
import type { Logger } from "../observability/logger.ts";

/** Events are written as this component (`source.component`, `reportingComponent`). */
export const EVENT_COMPONENT = "igw";
/** The API server keeps messages shorter than this in events.k8s.io; longer ones are cut here. */
const MAX_MESSAGE = 1024;
/** Messages remembered per object: an object edited over and over cannot grow memory without bound. */
const REMEMBERED_PER_OBJECT = 16;

export class EventRecorder {
  readonly #core: CoreV1Api;
  readonly #logger: Logger;
  readonly #instance = hostname();
  /** uid → messages already recorded for it. */
  readonly #recorded = new Map<string, Set<string>>();

  constructor(core: CoreV1Api, logger: Logger) {
    this.#core = core;
    this.#logger = logger;
  }

  /** Records a Warning `reason` with `message` on the object (once per distinct message). */
  warn(ref: ObjectRef, reason: string, message: string): void {
    const text = message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 1)}…` : message;
    const seen = this.#recorded.get(ref.uid) ?? new Set<string>();
    if (seen.has(`${reason}|${text}`)) return;
    seen.add(`${reason}|${text}`);
    if (seen.size > REMEMBERED_PER_OBJECT) seen.delete(seen.values().next().value as string);
    this.#recorded.set(ref.uid, seen);
    const now = new Date();
    const namespace = ref.namespace === "" ? "default" : ref.namespace;
    this.#core
      .createNamespacedEvent({
        namespace,
        body: {
          metadata: { generateName: `${ref.name}.`, namespace },
          involvedObject: {
            apiVersion: ref.apiVersion,
            kind: ref.kind,
            name: ref.name,
            ...(ref.namespace !== "" ? { namespace: ref.namespace } : {}),
            uid: ref.uid,
            resourceVersion: ref.resourceVersion,
          },
          reason,
          message: text,
          type: "Warning",
          count: 1,
          firstTimestamp: now,
          lastTimestamp: now,
          source: { component: EVENT_COMPONENT },
          reportingComponent: EVENT_COMPONENT,
          reportingInstance: this.#instance,
        },
      })
      .catch((e: unknown) => {
        seen.delete(`${reason}|${text}`);
        this.#logger.warn(
          { err: e, object: `${ref.kind} ${ref.namespace}/${ref.name}` },
          "could not record a Kubernetes Event",
        );
      });
  }

  /** Forgets objects that are gone (keeps memory bounded by the live objects). */
  retain(liveUids: ReadonlySet<string>): void {
    for (const uid of this.#recorded.keys()) if (!liveUids.has(uid)) this.#recorded.delete(uid);
  }
}
