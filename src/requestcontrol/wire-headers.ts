/**
 * Header names of the Gateway API Inference Extension's protocol (and ours), in one place. All
 * lower-case, as node:http and Envoy deliver them.
 */

/** The body's `model`, set before routing so HTTPRoute header matches see it (BBR). */
export const MODEL_NAME_HEADER = "x-gateway-model-name";
/** Prefix of every endpoint-steering header: a client's are removed, only the gateway chooses. */
export const DESTINATION_HEADER_PREFIX = "x-gateway-destination-endpoint";
/** The endpoint that served the request, on the response. */
export const SERVED_ENDPOINT_HEADER = "x-gateway-destination-endpoint-served";
export const REQUEST_ID_HEADER = "x-request-id";
/** Names the InferenceObjective whose priority applies. */
export const OBJECTIVE_HEADER = "x-gateway-inference-objective";
/** The fairness flow inside a priority band. */
export const FAIRNESS_ID_HEADER = "x-gateway-inference-fairness-id";
/** The scheduler's DecisionExplanation as JSON, when the gateway runs with explanations on. */
export const DECISION_HEADER = "x-gateway-scheduling-decision";
