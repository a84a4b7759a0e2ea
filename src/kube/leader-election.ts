/**
 * Leader election with a `coordination.k8s.io/v1` Lease, as client-go's leaderelection does: every
 * `retryPeriodMs` a candidate reads the Lease; the holder renews it; another takes it once it has
 * seen no renewal for `leaseDurationMs` (measured on its own clock from when it observed the
 * record, so clock skew between replicas does not matter). Updates carry the resourceVersion
 * read, so two candidates never both win. A leader that cannot renew for `renewDeadlineMs` steps
 * down; `close()` releases the Lease so that a follower takes over at once.
 */
import { hostname } from "node:os";
import { CoordinationV1Api, type KubeConfig, type V1Lease, V1MicroTime } from "@kubernetes/client-node";
import type { Logger } from "../observability/logger.ts";
import { httpStatusOf } from "./kind-watch.ts";

export interface LeaderElectionOptions {
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  readonly name: string;
  /** Default `hostname_pid`. */
  readonly identity?: string;
  /** How long a Lease lasts without renewal. Default 15000 (client-go's). */
  readonly leaseDurationMs?: number;
  /** A leader that has not renewed for this long steps down. Default 2/3 of the lease duration. */
  readonly renewDeadlineMs?: number;
  /** How often to try to acquire or renew. Default lease duration / 7 (2 s for 15 s). */
  readonly retryPeriodMs?: number;
  readonly logger: Logger;
  /** Called with true when this candidate becomes the leader, false when it stops being it. */
  readonly onLeader: (leading: boolean) => void;
}

export class LeaderElection {
  readonly identity: string;
  readonly #api: CoordinationV1Api;
  readonly #o: LeaderElectionOptions;
  readonly #leaseMs: number;
  readonly #renewDeadlineMs: number;
  readonly #retryMs: number;
  #leading = false;
  #lastRenew = 0;
  /** The record last seen and when (local clock) it was first seen in that state. */
  #observed: { key: string; at: number } | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #tick: Promise<void> = Promise.resolve();

  constructor(options: LeaderElectionOptions) {
    this.#o = options;
    this.identity = options.identity ?? `${hostname()}_${process.pid}`;
    this.#api = options.kubeConfig.makeApiClient(CoordinationV1Api);
    this.#leaseMs = options.leaseDurationMs ?? 15_000;
    this.#renewDeadlineMs = options.renewDeadlineMs ?? Math.round((this.#leaseMs * 2) / 3);
    this.#retryMs = options.retryPeriodMs ?? Math.max(100, Math.round(this.#leaseMs / 7));
  }

  get leading(): boolean {
    return this.#leading;
  }

  /** Starts campaigning (returns at once). */
  start(): void {
    this.#schedule(0);
  }

  /** Stops; a leader releases the Lease (holder cleared, duration 1 s) so a follower takes over now. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#tick;
    if (!this.#leading) return;
    this.#setLeading(false);
    try {
      const lease = await this.#api.readNamespacedLease({ name: this.#o.name, namespace: this.#o.namespace });
      if (lease.spec?.holderIdentity !== this.identity) return;
      lease.spec = {
        ...lease.spec,
        holderIdentity: "",
        leaseDurationSeconds: 1,
        renewTime: new V1MicroTime(),
      };
      await this.#api.replaceNamespacedLease({
        name: this.#o.name,
        namespace: this.#o.namespace,
        body: lease,
      });
    } catch (e) {
      this.#o.logger.warn({ err: (e as Error).message }, "could not release the leader Lease");
    }
  }

  #schedule(ms: number): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#tick = this.#attempt().then((next) => this.#schedule(next));
    }, ms);
    this.#timer.unref();
  }

  /** One try to acquire or renew; resolves to the delay before the next (never rejects). */
  async #attempt(): Promise<number> {
    const { name, namespace } = this.#o;
    const now = Date.now();
    try {
      let lease: V1Lease;
      try {
        lease = await this.#api.readNamespacedLease({ name, namespace });
      } catch (e) {
        if (httpStatusOf(e) !== 404) throw e;
        await this.#api.createNamespacedLease({ namespace, body: this.#record(undefined, 0) });
        this.#renewed(now);
        return this.#retryMs;
      }
      const spec = lease.spec ?? {};
      const holder = spec.holderIdentity ?? "";
      const key = `${holder}|${String(spec.renewTime ?? "")}|${spec.leaseDurationSeconds ?? ""}`;
      if (this.#observed?.key !== key) this.#observed = { key, at: now };
      const durationMs = (spec.leaseDurationSeconds ?? this.#leaseMs / 1000) * 1000;
      const expired = holder === "" || now - this.#observed.at >= durationMs;
      if (holder !== this.identity && !expired) {
        if (this.#leading) this.#setLeading(false);
        // Try again as the Lease expires, if that is sooner than the next period.
        return Math.min(this.#retryMs, this.#observed.at + durationMs - now + 10);
      }
      const transitions = (spec.leaseTransitions ?? 0) + (holder === this.identity ? 0 : 1);
      lease.spec = this.#record(holder === this.identity ? spec.acquireTime : undefined, transitions).spec!;
      await this.#api.replaceNamespacedLease({ name, namespace, body: lease });
      this.#renewed(now);
    } catch (e) {
      // A conflict means another candidate wrote first; anything else: the API server is unreachable.
      if (httpStatusOf(e) !== 409)
        this.#o.logger.warn(
          { err: (e as Error).message, lease: `${namespace}/${name}` },
          "leader election: Lease not renewed",
        );
      if (this.#leading && Date.now() - this.#lastRenew > this.#renewDeadlineMs) {
        this.#o.logger.warn(
          { lease: `${namespace}/${name}` },
          "leader election: renew deadline passed, stepping down",
        );
        this.#setLeading(false);
      }
    }
    return this.#retryMs;
  }

  #record(acquireTime: Date | undefined, transitions: number): V1Lease {
    const now = new V1MicroTime();
    return {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: this.#o.name, namespace: this.#o.namespace },
      spec: {
        holderIdentity: this.identity,
        leaseDurationSeconds: Math.max(1, Math.round(this.#leaseMs / 1000)),
        acquireTime: acquireTime ? new V1MicroTime(String(acquireTime)) : now,
        renewTime: now,
        leaseTransitions: transitions,
      },
    };
  }

  #renewed(at: number): void {
    this.#lastRenew = at;
    if (!this.#leading) this.#setLeading(true);
  }

  #setLeading(leading: boolean): void {
    if (this.#leading === leading) return;
    this.#leading = leading;
    this.#o.logger.info(
      { identity: this.identity, lease: `${this.#o.namespace}/${this.#o.name}` },
      leading ? "leader election: became the leader" : "leader election: stopped leading",
    );
    this.#o.onLeader(leading);
  }
}
