/** Test helpers for flow control: requests, fake candidates, a settable detector, a controller on a fake clock. */
import type { Endpoint } from "../../src/datastore/endpoint.ts";
import type { FlowControlSettings } from "../../src/flowcontrol/config.ts";
import { parseFlowControl } from "../../src/flowcontrol/config.ts";
import { FlowController } from "../../src/flowcontrol/flow-controller.ts";
import type { FlowRequest, SaturationDetector } from "../../src/flowcontrol/types.ts";
import { type EndpointMetrics, emptyMetrics } from "../../src/modelserver/endpoint-metrics.ts";
import type { Candidate } from "../../src/scheduling/types.ts";
import { FakeTimers } from "../helpers/fake-timers.ts";

export function request(
  id: string,
  priority = 0,
  flowId = "f",
  options: { bytes?: number; signal?: AbortSignal } = {},
): FlowRequest {
  return {
    id,
    priority,
    flowId,
    bytes: options.bytes ?? 100,
    signal: options.signal ?? new AbortController().signal,
  };
}

/** A candidate scraped at `metrics.updatedAt` (default: now on the real clock). */
export function candidate(id: string, metrics: Partial<EndpointMetrics> = {}, inFlight = 0): Candidate {
  const endpoint: Endpoint = { id, host: "127.0.0.1", port: Number(id.split(":")[1] ?? 1), labels: {} };
  return {
    endpoint,
    metrics: { ...emptyMetrics(), updatedAt: Date.now(), ...metrics },
    inFlight: { requests: inFlight, tokens: 0, kvTokens: 0 },
    stale: false,
  };
}

/** A detector whose saturation the test sets directly. */
export class SettableDetector implements SaturationDetector {
  readonly type = "settable";
  readonly name = "settable";
  value = 0;
  saturation(): number {
    return this.value;
  }
}

/**
 * A controller over a settable detector on a fake clock (`timers`: turns, settle, advance), with
 * the results of its admissions recorded in order.
 */
export function harness(flowControl: Record<string, unknown> = {}) {
  const timers = new FakeTimers();
  const detector = new SettableDetector();
  // No reclaim hold unless a test asks for one: the others check order, not pacing.
  const settings: FlowControlSettings = parseFlowControl({ reclaimWindow: 0, ...flowControl });
  const controller = new FlowController({ settings, detector, candidates: () => [], timers });
  const served: string[] = [];
  const failed: { id: string; status: number; code: string; retryAfter: number | undefined }[] = [];
  const admit = (r: FlowRequest): Promise<void> =>
    controller.admit(r).then(
      () => {
        served.push(r.id);
      },
      (e: { status: number; toJSON(): { error: { code: string } }; retryAfterSeconds?: number }) => {
        failed.push({
          id: r.id,
          status: e.status,
          code: e.toJSON().error.code,
          retryAfter: e.retryAfterSeconds,
        });
      },
    );
  return { detector, controller, served, failed, admit, timers };
}
