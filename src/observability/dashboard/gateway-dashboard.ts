/**
 * The dashboard of one gateway process, ready to mount: the feed over the process's parts (its
 * datastore, its director's hooks and explanation switch, its flow controllers) and the handler
 * that serves `/dashboard*`. The composition root makes one; `igw serve` mounts it on its
 * listeners, and any other server (an endpoint picker's metrics port) can mount the same handler.
 */
import type { Datastore } from "../../datastore/datastore.ts";
import type { FlowControlMetrics } from "../../flowcontrol/metrics.ts";
import type { LifecycleHooks } from "../../requestcontrol/lifecycle-hooks.ts";
import { type DashboardFeedOptions, GatewayDashboardFeed } from "./dashboard-feed.ts";
import {
  type DashboardHttpOptions,
  type DashboardReply,
  type DashboardRequest,
  dashboardHandler,
} from "./dashboard-http.ts";

/** What the dashboard reads of a gateway (a Director fits `director`). */
export interface DashboardParts {
  readonly datastore: Datastore;
  readonly director: {
    readonly hooks: LifecycleHooks;
    explainWhile(wanted: () => boolean): () => void;
  };
  readonly flowControl?: FlowControlMetrics;
}

export interface Dashboard {
  /** Answers `/dashboard`, its assets and `/dashboard/events` (returns true); false for any other path. */
  readonly handle: (req: DashboardRequest, res: DashboardReply) => boolean;
  /** A configuration change was rejected, the running one kept: the page shows `errors` until the next accepted one. */
  reloadRejected(errors: readonly string[]): void;
  /** Stops the feed (gateway shutdown; the server closes the open event streams). */
  close(): void;
}

/** Builds the feed (idle until a page connects) and its handler. */
export function createDashboard(
  parts: DashboardParts,
  options: DashboardFeedOptions & DashboardHttpOptions = {},
): Dashboard {
  const { director } = parts;
  const feed = new GatewayDashboardFeed(
    {
      datastore: parts.datastore,
      hooks: director.hooks,
      ...(parts.flowControl ? { flowControl: parts.flowControl } : {}),
      explain: (wanted) => director.explainWhile(wanted),
    },
    options,
  );
  return {
    handle: dashboardHandler(feed, options),
    reloadRejected: (errors) => feed.reloadRejected(errors),
    close: () => feed.close(),
  };
}
