/** How an Event or a status condition names one problem of its own object: `field reason`. */
import { type ConfigIssue, formatIssue } from "../config/config-error.ts";

/** `spec.poolRef.name: InferencePool default/x is not defined` (the object is the one reported on). */
export function formatIssueText(i: ConfigIssue): string {
  return formatIssue({ file: "", line: 0, object: "", field: i.field, reason: i.reason });
}
