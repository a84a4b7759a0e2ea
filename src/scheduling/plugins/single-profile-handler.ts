/** single-profile-handler: runs the one profile of a config (the default handler). */
import { z } from "zod";
import { definePlugin } from "../../plugins/registry.ts";
import type { SchedulerProfile } from "../profile-runner.ts";
import type { ProfileHandler, SchedulingRequest } from "../types.ts";

export class SingleProfileHandler implements ProfileHandler {
  readonly type = "single-profile-handler";
  readonly name: string;
  constructor(name = "single-profile-handler") {
    this.name = name;
  }
  selectProfile(_request: SchedulingRequest, profiles: readonly SchedulerProfile[]): SchedulerProfile {
    return profiles[0]!;
  }
}

export const singleProfileHandlerPlugin = definePlugin({
  type: "single-profile-handler",
  kind: "profile-handler",
  description: "runs the config's single scheduling profile",
  parameters: z.strictObject({}),
  create: (name) => new SingleProfileHandler(name),
});
