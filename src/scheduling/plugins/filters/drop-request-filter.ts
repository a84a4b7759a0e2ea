/** drop-request-filter: keeps nothing; the legacy tree's last resort for non-critical requests (→ 429). */
import { z } from "zod";
import { definePlugin } from "../../../plugins/registry.ts";
import type { Candidate, Filter, SchedulingRequest } from "../../types.ts";

export class DropRequestFilter implements Filter {
  readonly type = "drop-request-filter";
  readonly name: string;
  constructor(name = "drop-request-filter") {
    this.name = name;
  }
  filter(_request: SchedulingRequest, _candidates: readonly Candidate[]): Candidate[] {
    return [];
  }
}

export const dropRequestFilterPlugin = definePlugin({
  type: "drop-request-filter",
  kind: "filter",
  description: "keeps no endpoint (the request is refused with 429)",
  parameters: z.strictObject({}),
  create: (name) => new DropRequestFilter(name),
});
