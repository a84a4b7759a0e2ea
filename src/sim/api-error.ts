/** vLLM's error type names by HTTP status (the `type` field of the error body). */
const TYPES: Record<number, string> = {
  400: "BadRequestError",
  401: "AuthenticationError",
  403: "PermissionDeniedError",
  404: "NotFoundError",
  408: "RequestTimeoutError",
  429: "RateLimitError",
  500: "InternalServerError",
  501: "NotImplementedError",
  503: "ServiceUnavailableError",
};

/** An error answered as vLLM does: HTTP status = code, body `{"error":{message,type,param,code}}`. */
export class ApiError extends Error {
  readonly status: number;
  readonly param: string | null;

  constructor(status: number, message: string, param: string | null = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.param = param;
  }

  /** The JSON body text. */
  body(): string {
    return errorBody(this.status, this.message, this.param);
  }
}

/** The vLLM error body for a status and message. */
export function errorBody(status: number, message: string, param: string | null = null): string {
  const type = TYPES[status] ?? (status >= 500 ? "InternalServerError" : "BadRequestError");
  return JSON.stringify({ error: { message, type, param, code: status } });
}
