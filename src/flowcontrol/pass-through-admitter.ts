/** An Admitter that admits every request at once (no queueing). */
import type { Admitter, FlowRequest } from "./types.ts";

export class PassThroughAdmitter implements Admitter {
  admit(_request: FlowRequest): Promise<void> {
    return Promise.resolve();
  }

  notify(): void {}
}
