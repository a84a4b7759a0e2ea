/**
 * What the ext_proc adapter needs of the core's exchange (`src/requestcontrol/exchange.ts`): the
 * methods it calls, picked from the class, so `director.begin(inbound, {kind: "pool", ...})`
 * satisfies it as it is and tests can drive the state machine with a recording fake. The adapter
 * calls, in order: `decide` once, `attempt` per endpoint Envoy is sent to, `responseStarted`,
 * `responseChunk`* and `responseEnd`; `fail` to render a refusal, `clientGone` when Envoy resets
 * the stream, and `end` on every path.
 */
import type { InboundRequest } from "../requestcontrol/decision.ts";
import type { Exchange } from "../requestcontrol/exchange.ts";

export type { Decision, ErrorResponse, InboundRequest, ResponseAction } from "../requestcontrol/decision.ts";

export type ExchangePort = Pick<
  Exchange,
  "decide" | "attempt" | "responseStarted" | "responseChunk" | "responseEnd" | "fail" | "clientGone" | "end"
>;

/** Opens the exchange of a request Envoy already routed to our pool; `subset`: Envoy's subset hint. */
export type BeginExchange = (inbound: InboundRequest, subset: readonly string[] | undefined) => ExchangePort;
