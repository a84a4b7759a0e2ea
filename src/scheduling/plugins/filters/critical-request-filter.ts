/** critical-request-filter: keeps every candidate for a Critical request (priority > 0), none otherwise. */
import { z } from "zod";
import { definePlugin } from "../../../plugins/registry.ts";
import type { Candidate, Filter, SchedulingRequest } from "../../types.ts";

export class CriticalRequestFilter implements Filter {
  readonly type = "critical-request-filter";
  readonly name: string;
  constructor(name = "critical-request-filter") {
    this.name = name;
  }
  filter(request: SchedulingRequest, candidates: readonly Candidate[]): Candidate[] {
    return request.priority > 0 ? [...candidates] : [];
  }
}

export const criticalRequestFilterPlugin = definePlugin({
  type: "critical-request-filter",
  kind: "filter",
  description: "branch point of the legacy tree: passes Critical requests (priority > 0), drops the rest",
  parameters: z.strictObject({}),
  create: (name) => new CriticalRequestFilter(name),
});
