/** The `maxNumOfEndpoints` parameter every picker takes: target + fallbacks, at least 1. */
import { z } from "zod";

export const pickerParameters = z.strictObject({
  maxNumOfEndpoints: z.number().int().min(1).max(1000).default(1),
});
