/**
 * The request log as a hook subscriber: at debug level, each scheduling decision (with its
 * explanation) and each refused or failed request. Nothing is built when debug is off.
 */
import type { Logger } from "pino";
import type { LifecycleHooks } from "../requestcontrol/lifecycle-hooks.ts";

/** Subscribes `logger` to the hooks; returns the unsubscribe function (a no-op below debug). */
export function subscribeRequestLog(hooks: LifecycleHooks, logger: Logger): () => void {
  if (!logger.isLevelEnabled("debug")) return () => {};
  const offs = [
    hooks.on("scheduled", (ex) => {
      if (ex.explanation) logger.debug({ requestId: ex.id, decision: ex.explanation }, "scheduling decision");
    }),
    hooks.on("error", (ex) => {
      logger.debug(
        {
          requestId: ex.id,
          status: ex.status,
          code: ex.errorCode,
          endpoint: ex.endpoint,
          msg: ex.errorMessage,
        },
        "request refused or failed",
      );
    }),
  ];
  return () => {
    for (const off of offs) off();
  };
}
