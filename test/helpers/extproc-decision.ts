/** A core Decision for ext_proc tests: two endpoints, body unchanged, with `overrides`. */
import type { Decision } from "../../src/extproc/exchange-port.ts";

export function testDecision(body: Buffer, overrides: Partial<Decision> = {}): Decision {
  return {
    requestId: "req-1",
    poolKey: "default/pool",
    url: "/v1/chat/completions",
    endpoints: ["10.0.0.1:8000", "10.0.0.2:8000"],
    body,
    bodyRewritten: false,
    setHeaders: {},
    removeHeaders: [],
    timeoutMs: undefined,
    priority: 0,
    clientModel: "client-model",
    targetModel: "client-model",
    stream: false,
    explanation: undefined,
    ...overrides,
  };
}
