/**
 * Findings about the InferencePool annotations the gateway interprets: an unknown
 * `inference-epp-env.networking.x-k8s.io/…` key, a near miss of a known one under any prefix
 * (`experimental-use-queuing`), or a value other than "true"/"false". A typo here silently switches
 * priority queueing off, so each becomes a warning naming the closest known annotation.
 */
import { POOL_ANNOTATIONS } from "../api/inference-pool.ts";
import { closestName } from "./closest-name.ts";

const EPP_ENV_PREFIX = "inference-epp-env.networking.x-k8s.io/";

/** One finding about the annotation `key`. */
export interface AnnotationWarning {
  readonly key: string;
  readonly message: string;
}

/** Warnings for a pool's annotations (empty when every interpreted key is spelt right). */
export function poolAnnotationWarnings(annotations: Readonly<Record<string, string>>): AnnotationWarning[] {
  const out: AnnotationWarning[] = [];
  const shortNames = POOL_ANNOTATIONS.map((a) => a.slice(EPP_ENV_PREFIX.length));
  for (const [key, value] of Object.entries(annotations)) {
    if (POOL_ANNOTATIONS.includes(key)) {
      if (!/^(true|false)$/i.test(value))
        out.push({ key, message: `is '${value}', which reads as false (only "true" turns it on)` });
      continue;
    }
    const slash = key.lastIndexOf("/");
    const short = key.slice(slash + 1);
    const near = shortNames.includes(short) ? short : closestName(short, shortNames);
    if (near !== undefined) {
      out.push({
        key,
        message: `is not an annotation the gateway reads and is ignored (did you mean '${EPP_ENV_PREFIX}${near}'?)`,
      });
    } else if (key.startsWith(EPP_ENV_PREFIX)) {
      out.push({
        key,
        message: `is not an annotation the gateway reads and is ignored (it reads ${POOL_ANNOTATIONS.map((a) => `'${a}'`).join(", ")})`,
      });
    }
  }
  return out;
}
