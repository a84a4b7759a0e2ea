import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { applyRuntimeConfig, runtimeConfig } from "./admin-config.ts";
import { ApiError, errorBody } from "./api-error.ts";
import type { FinishReason, NewRequest } from "./engine-types.ts";
import { injectedFailure } from "./faults.ts";
import { renderMetrics } from "./metrics-exposition.ts";
import { chatBody, completionBody, DONE_FRAME, errorFrame, StreamFrames, usage } from "./openai-bodies.ts";
import type { Replica } from "./replica.ts";
import { chatPrompt, type GenerationRequest, parseGenerationRequest } from "./request-parse.ts";
import type { Sequence } from "./sequence.ts";
import { detokenize, OUTPUT_PIECES, tokenize } from "./tokenizer.ts";

/** Largest request body accepted (bytes). */
const MAX_BODY = 64 * 1024 * 1024;

function sendJson(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

function sendError(res: ServerResponse, e: ApiError): void {
  sendJson(res, e.status, e.body());
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    "content-type": "text/plain; charset=utf-8",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) reject(new ApiError(413, "Request body too large."));
      else parts.push(c);
    });
    req.on("end", () =>
      resolve(parts.length === 1 ? parts[0]!.toString("utf8") : Buffer.concat(parts).toString("utf8")),
    );
    req.on("error", reject);
  });
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const text = await readBody(req);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ApiError(400, `Invalid JSON body: ${(e as Error).message}`);
  }
}

function runtimeLoraAllowed(r: Replica): boolean {
  const env = process.env["VLLM_ALLOW_RUNTIME_LORA_UPDATING"];
  return r.options.allowRuntimeLoraUpdating || env === "True" || env === "true" || env === "1";
}

/** Routes one HTTP request of a replica (vLLM's paths; FastAPI-style 404/405 for others). */
export function handleRequest(r: Replica, req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  const path = q >= 0 ? url.slice(0, q) : url;
  const method = req.method ?? "GET";
  const routes = ROUTES[path];
  if (routes === undefined || (routes[0]!.runtimeLora === true && !runtimeLoraAllowed(r))) {
    sendJson(res, 404, '{"detail":"Not Found"}');
    return;
  }
  const route = routes.find((x) => x.method === method);
  if (route === undefined) {
    sendJson(res, 405, '{"detail":"Method Not Allowed"}');
    return;
  }
  route.handle(r, req, res).catch((e: unknown) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (e instanceof ApiError) sendError(res, e);
    else sendError(res, new ApiError(500, `Internal error: ${(e as Error).message}`));
  });
}

interface Route {
  method: string;
  runtimeLora?: boolean;
  handle(r: Replica, req: IncomingMessage, res: ServerResponse): Promise<void>;
}

/** Path -> the routes for its methods. */
const ROUTES: Record<string, Route[]> = {
  "/health": [{ method: "GET", handle: async (r, _q, res) => health(r, res) }],
  "/ping": [{ method: "GET", handle: async (r, _q, res) => health(r, res) }],
  "/version": [
    { method: "GET", handle: async (_r, _q, res) => sendJson(res, 200, '{"version":"0.10.1 (igw sim)"}') },
  ],
  "/metrics": [{ method: "GET", handle: async (r, q, res) => metrics(r, q, res) }],
  "/v1/models": [{ method: "GET", handle: async (r, _q, res) => sendJson(res, 200, modelsBody(r)) }],
  "/v1/completions": [{ method: "POST", handle: (r, q, res) => generate(r, q, res, false) }],
  "/v1/chat/completions": [{ method: "POST", handle: (r, q, res) => generate(r, q, res, true) }],
  "/tokenize": [{ method: "POST", handle: tokenizeRoute }],
  "/detokenize": [{ method: "POST", handle: detokenizeRoute }],
  "/v1/load_lora_adapter": [{ method: "POST", runtimeLora: true, handle: loadLora }],
  "/v1/unload_lora_adapter": [{ method: "POST", runtimeLora: true, handle: unloadLora }],
  "/reset_prefix_cache": [{ method: "POST", handle: resetPrefixCache }],
  "/admin/kill": [{ method: "POST", handle: adminKill }],
  "/admin/state": [{ method: "GET", handle: async (r, _q, res) => sendJson(res, 200, stateBody(r)) }],
  "/admin/config": [
    { method: "GET", handle: async (r, _q, res) => sendJson(res, 200, JSON.stringify(runtimeConfig(r))) },
    { method: "POST", handle: adminConfig },
  ],
};

function health(r: Replica, res: ServerResponse): void {
  if (r.isReady()) {
    res.writeHead(200, { "content-length": 0 });
    res.end();
  } else sendJson(res, 503, errorBody(503, r.dead ? "The engine is dead." : "The server is starting up."));
}

/** vLLM's page (prometheus_client's ASGI app), with its `?name[]=` filter when one is given. */
function metrics(r: Replica, req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? "/";
  const names = url.includes("?") ? new URL(url, "http://x").searchParams.getAll("name[]") : [];
  const text = renderMetrics(r.engine.stats, {
    modelName: r.names[0]!,
    engineLabel: r.options.engineLabel,
    compat: r.options.metricsCompat,
    config: r.config,
    gpuMemoryUtilization: r.options.gpuMemoryUtilization,
    numGpuBlocksOverride: r.options.numGpuBlocksOverride,
    sampleNames: names.length === 0 ? undefined : new Set(names),
  });
  res.writeHead(200, {
    "content-type": "text/plain; version=0.0.4; charset=utf-8",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

function permission(created: number): unknown[] {
  return [
    {
      id: `modelperm-${randomUUID().replaceAll("-", "")}`,
      object: "model_permission",
      created,
      allow_create_engine: false,
      allow_sampling: true,
      allow_logprobs: true,
      allow_search_indices: false,
      allow_view: true,
      allow_fine_tuning: false,
      organization: "*",
      group: null,
      is_blocking: false,
    },
  ];
}

function modelsBody(r: Replica): string {
  const created = Math.floor(Date.now() / 1000);
  const data: unknown[] = r.names.map((id) => ({
    id,
    object: "model",
    created,
    owned_by: "vllm",
    root: r.options.model,
    parent: null,
    max_model_len: r.options.maxModelLen,
    permission: permission(created),
  }));
  for (const [name, { path }] of r.loras) {
    data.push({
      id: name,
      object: "model",
      created,
      owned_by: "vllm",
      root: path,
      parent: r.names[0],
      max_model_len: null,
      permission: permission(created),
    });
  }
  return JSON.stringify({ object: "list", data });
}

function stateBody(r: Replica): string {
  const view = (s: Sequence) => ({
    id: s.id,
    adapter: s.adapter,
    prompt_tokens: s.promptLen,
    output_tokens: s.numOutput,
    computed_tokens: s.numComputed,
    blocks: s.blocks.length,
    preemptions: s.preemptions,
  });
  return JSON.stringify({
    running: r.engine.runningSeqs.map(view),
    waiting: r.engine.waitingSeqs.map(view),
    kv_free_blocks: r.engine.pool.numFree(),
    kv_total_blocks: r.engine.pool.numBlocks,
    requests_seen: r.requestsSeen,
    simulated_ms: r.runner.now(),
    lost_ms: r.runner.lostMs,
  });
}

/** Resolves the requested model to the adapter it names (null = base model); 404 otherwise. */
function resolveModel(r: Replica, model: string | undefined): { name: string; adapter: string | null } {
  if (model === undefined || r.names.includes(model)) return { name: model ?? r.names[0]!, adapter: null };
  if (r.config.enableLora && r.loras.has(model)) return { name: model, adapter: model };
  throw new ApiError(404, `The model \`${model}\` does not exist.`, "model");
}

async function generate(r: Replica, req: IncomingMessage, res: ServerResponse, chat: boolean): Promise<void> {
  if (r.dead) {
    res.destroy();
    return;
  }
  const deadAfter = r.options.deadAfter;
  if (deadAfter > 0 && ++r.requestsSeen > deadAfter) {
    r.kill();
    return;
  }
  if (deadAfter === 0) r.requestsSeen++;
  if (!r.isReady()) throw new ApiError(503, "The server is starting up.");
  const raw = await readJson(req);
  const g = parseGenerationRequest(
    raw,
    chat,
    r.options.maxModelLen,
    r.config.schedulingPolicy === "priority",
  );
  const { name, adapter } = resolveModel(r, g.model);
  const header = req.headers["x-return-error"];
  const failure = injectedFailure(
    Array.isArray(header) ? header[0] : header,
    r.options.failureRate,
    r.options.failureTypes,
    r.faultRng,
    name,
  );
  if (failure !== null) throw failure;
  const maxWaiting = r.options.maxWaitingQueueLength;
  if (maxWaiting > 0 && r.engine.waitingSeqs.length >= maxWaiting) {
    throw new ApiError(429, `The waiting queue is full (${maxWaiting} requests).`);
  }
  const rid = req.headers["x-request-id"];
  const base = typeof rid === "string" && rid.length > 0 ? rid : randomUUID().replaceAll("-", "");
  const id = `${chat ? "chatcmpl" : "cmpl"}-${base}`;
  const midStreamError = r.options.midStreamErrorProb > 0 && r.faultRng.next() < r.options.midStreamErrorProb;
  if (g.stream) stream(r, req, res, g, id, name, adapter, midStreamError);
  else await unary(r, res, g, id, name, adapter, midStreamError);
}

const MID_STREAM_ERROR = errorBody(500, "Injected mid-stream engine failure.");

/** What the engine is asked to run for one generation request. */
function submission(r: Replica, g: GenerationRequest, id: string, adapter: string | null): NewRequest {
  return {
    id,
    promptTokens: g.promptTokens,
    maxTokens: g.maxTokens,
    ignoreEos: g.ignoreEos,
    adapter,
    loraId: adapter === null ? null : (r.loras.get(adapter)?.id ?? null),
    priority: g.priority,
    cacheSalt: g.cacheSalt,
  };
}

function stream(
  r: Replica,
  req: IncomingMessage,
  res: ServerResponse,
  g: GenerationRequest,
  id: string,
  model: string,
  adapter: string | null,
  midStreamError: boolean,
): void {
  const frames = new StreamFrames(g.chat, id, Math.floor(Date.now() / 1000), model);
  res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8" });
  res.flushHeaders(); // as Starlette's StreamingResponse: headers go out before the first token
  let sent = 0;
  let done = false;
  let errorAt = Number.POSITIVE_INFINITY;
  const seq = r.runner.submit(submission(r, g, id, adapter), {
    onToken(word: number, finish: FinishReason | null) {
      if (done) return;
      const p = g.promptTokens.length;
      let out = sent === 0 && g.chat ? frames.role(g.continuousUsage ? usage(p, 0) : undefined) : "";
      sent++;
      if (sent >= errorAt && finish === null) {
        done = true;
        r.runner.abort(seq);
        res.end(out + frames.token(word, null) + errorFrame(MID_STREAM_ERROR) + DONE_FRAME);
        return;
      }
      out += frames.token(word, finish, g.continuousUsage ? usage(p, sent) : undefined);
      if (finish === null) {
        res.write(out);
        return;
      }
      done = true;
      if (g.includeUsage) out += frames.usage(usage(g.promptTokens.length, sent));
      res.end(out + DONE_FRAME);
    },
  });
  if (midStreamError) errorAt = Math.max(1, Math.floor(seq.target / 2));
  res.on("close", () => {
    if (!done) {
      done = true;
      r.runner.abort(seq);
    }
  });
  req.on("error", () => undefined);
}

function unary(
  r: Replica,
  res: ServerResponse,
  g: GenerationRequest,
  id: string,
  model: string,
  adapter: string | null,
  midStreamError: boolean,
): Promise<void> {
  return new Promise((resolve) => {
    const words: number[] = [];
    let done = false;
    const seq = r.runner.submit(submission(r, g, id, adapter), {
      onToken(word: number, finish: FinishReason | null) {
        words.push(word);
        if (midStreamError && finish === null && words.length >= Math.max(1, Math.floor(seq.target / 2))) {
          done = true;
          r.runner.abort(seq);
          sendError(res, new ApiError(500, "Injected mid-stream engine failure."));
          resolve();
          return;
        }
        if (finish === null) return;
        done = true;
        const text = words.map((w) => OUTPUT_PIECES[w]!).join("");
        const u = usage(g.promptTokens.length, words.length);
        const created = Math.floor(Date.now() / 1000);
        sendJson(
          res,
          200,
          g.chat
            ? chatBody(id, created, model, text, finish, u)
            : completionBody(id, created, model, text, finish, u),
        );
        resolve();
      },
    });
    res.on("close", () => {
      if (!done) {
        done = true;
        r.runner.abort(seq);
        resolve();
      }
    });
  });
}

async function tokenizeRoute(r: Replica, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = (await readJson(req)) as Record<string, unknown> | null;
  if (body === null || typeof body !== "object")
    throw new ApiError(400, "The request body must be a JSON object.");
  if (typeof body["model"] === "string") resolveModel(r, body["model"]);
  let tokens: number[];
  if (body["messages"] !== undefined) tokens = chatPrompt(body["messages"]);
  else if (typeof body["prompt"] === "string") tokens = tokenize(body["prompt"]);
  else throw new ApiError(400, "Send either prompt (a string) or messages.", "prompt");
  sendJson(
    res,
    200,
    JSON.stringify({ count: tokens.length, max_model_len: r.options.maxModelLen, tokens, token_strs: null }),
  );
}

async function detokenizeRoute(r: Replica, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = (await readJson(req)) as Record<string, unknown> | null;
  if (body === null || typeof body !== "object")
    throw new ApiError(400, "The request body must be a JSON object.");
  if (typeof body["model"] === "string") resolveModel(r, body["model"]);
  const tokens = body["tokens"];
  if (
    !Array.isArray(tokens) ||
    !tokens.every((t) => typeof t === "number" && Number.isInteger(t) && t >= 0)
  ) {
    throw new ApiError(400, "tokens must be a list of non-negative integers.", "tokens");
  }
  sendJson(res, 200, JSON.stringify({ prompt: detokenize(tokens as number[]) }));
}

async function loadLora(r: Replica, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = (await readJson(req)) as Record<string, unknown> | null;
  const name = body?.["lora_name"];
  const path = body?.["lora_path"];
  if (typeof name !== "string" || typeof path !== "string" || name === "" || path === "") {
    throw new ApiError(400, "Both 'lora_name' and 'lora_path' must be provided.");
  }
  if (!r.config.enableLora) throw new ApiError(400, "LoRA is not enabled (start with --enable-lora).");
  if (r.loras.has(name)) throw new ApiError(400, `The lora adapter '${name}' has already been loaded.`);
  r.addLora(name, path);
  sendText(res, 200, `Success: LoRA adapter '${name}' added successfully.`);
}

async function unloadLora(r: Replica, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = (await readJson(req)) as Record<string, unknown> | null;
  const name = body?.["lora_name"];
  if (typeof name !== "string" || name === "")
    throw new ApiError(400, "'lora_name' needs to be provided to unload a LoRA adapter.");
  if (!r.loras.has(name)) throw new ApiError(404, `The lora adapter '${name}' cannot be found.`);
  r.loras.delete(name);
  r.engine.unloadAdapter(name);
  sendText(res, 200, `Success: LoRA adapter '${name}' removed successfully.`);
}

async function adminConfig(r: Replica, req: IncomingMessage, res: ServerResponse): Promise<void> {
  applyRuntimeConfig(r, await readJson(req));
  sendJson(res, 200, JSON.stringify(runtimeConfig(r)));
}

/**
 * vLLM's POST /reset_prefix_cache[?reset_running_requests=true] (vLLM serves it with
 * VLLM_SERVER_DEV_MODE=1): 200 with an empty body. Without reset_running_requests the reset does not
 * happen while requests hold KV blocks, as in vLLM (which only logs it); the sim logs a warning.
 */
async function resetPrefixCache(r: Replica, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const q = new URL(req.url ?? "/", "http://x").searchParams.get("reset_running_requests");
  if (q !== null && !["true", "false", "1", "0"].includes(q.toLowerCase()))
    throw new ApiError(400, "reset_running_requests must be true or false.", "reset_running_requests");
  if (!r.resetPrefixCache(q === "true" || q === "1"))
    r.warn(
      `igw sim: replica ${r.index}: failed to reset prefix cache because some blocks (${r.engine.pool.numUsed()}) are not freed yet`,
    );
  res.writeHead(200, { "content-length": 0 });
  res.end();
}

async function adminKill(r: Replica, _req: IncomingMessage, res: ServerResponse): Promise<void> {
  res.on("finish", () => setImmediate(() => r.kill()));
  sendJson(res, 200, '{"status":"killed"}');
}
