/**
 * What the client measured for one request (vLLM's RequestFuncOutput). Times are seconds; startTime
 * is on the benchmark's monotonic clock (performance.now()/1000).
 */
export interface RequestOutput {
  /** HTTP 200 and at least one chunk with non-empty `choices`. */
  success: boolean;
  /** HTTP status, or 0 when no response arrived (connection error, timeout). */
  status: number;
  /** Why the request failed ("" on success). */
  error: string;
  /** Time to first token (first choices-chunk − start), s; 0 when none arrived. */
  ttft: number;
  /** Gaps between consecutive choices-chunks, s (one entry per chunk after the first). */
  itl: number[];
  /** Last choices-chunk − start (vLLM's E2EL), s. */
  latency: number;
  /** When the request was sent (after any client-side concurrency wait), s. */
  startTime: number;
  /** Time spent waiting for the class's concurrency limit before sending, s. */
  clientQueueTime: number;
  /** Prompt tokens: usage.prompt_tokens when the server sent usage, else the built length. */
  promptLen: number;
  /** usage.completion_tokens; 0 when the server sent no usage (then the chunk count is used). */
  outputTokens: number;
  /** Number of choices-chunks received. */
  chunks: number;
  /** Concatenated text, only collected with --save-detailed. */
  generatedText: string;
  /** Index of the traffic class this request belongs to. */
  classIndex: number;
}

/** A RequestOutput for a request that has not produced anything yet. */
export function emptyOutput(classIndex: number, promptLen: number): RequestOutput {
  return {
    success: false,
    status: 0,
    error: "",
    ttft: 0,
    itl: [],
    latency: 0,
    startTime: 0,
    clientQueueTime: 0,
    promptLen,
    outputTokens: 0,
    chunks: 0,
    generatedText: "",
    classIndex,
  };
}
