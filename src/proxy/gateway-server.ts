/**
 * The HTTP adapter (node:http): each `POST` is one exchange of the director, forwarded by `forward`;
 * `GET /v1/models` (and `/v1/models/{id}`), `/metrics` and `/health` are answered by the gateway itself. Errors become
 * OpenAI-shaped JSON; the server keeps serving after each.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { Datastore } from "../datastore/datastore.ts";
import { GatewayError } from "../errors.ts";
import type { GatewayMetrics } from "../observability/gateway-metrics.ts";
import type { Decision } from "../requestcontrol/decision.ts";
import type { Director } from "../requestcontrol/director.ts";
import { asGatewayError, errorResponse } from "../requestcontrol/error-response.ts";
import { forward } from "./forward.ts";
import { listModels } from "./models-list.ts";
import { readBody } from "./read-body.ts";
import { writeErrorResponse } from "./send-error.ts";
import type { UpstreamPools } from "./upstream-pools.ts";

export interface GatewayServerDeps {
  readonly director: Director;
  readonly datastore: Datastore;
  readonly pools: UpstreamPools;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  /** Max request body, bytes. */
  readonly bodyLimit: number;
}

/** A server for one port; `listenerKeys()` names the listeners (routes) it serves right now. */
export function createGatewayServer(deps: GatewayServerDeps, listenerKeys: () => readonly string[]): Server {
  const server = createServer({ noDelay: true, keepAliveTimeout: 65_000 }, (req, res) => {
    handle(deps, listenerKeys(), req, res).catch((e: unknown) => {
      deps.logger.error({ err: e }, "unexpected error while handling a request");
      writeErrorResponse(res, errorResponse(asGatewayError(e)));
    });
  });
  return server;
}

async function handle(
  deps: GatewayServerDeps,
  keys: readonly string[],
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = req.url ?? "/";
  const method = req.method ?? "GET";
  if (method === "GET" || method === "HEAD") {
    const path = url.split("?", 1)[0];
    if (path === "/v1/models") return sendJson(res, 200, listModels(deps.datastore, keys));
    if (path?.startsWith("/v1/models/")) {
      const id = decodeURIComponent(path.slice("/v1/models/".length));
      const model = listModels(deps.datastore, keys).data.find((m) => m.id === id);
      if (model) return sendJson(res, 200, model);
      return writeErrorResponse(
        res,
        errorResponse(
          new GatewayError("modelNotFound", `The model '${id}' does not exist`, { param: "model" }),
        ),
      );
    }
    if (path === "/metrics") {
      const text = await deps.metrics.registry.metrics();
      res.writeHead(200, { "content-type": deps.metrics.registry.contentType });
      res.end(text);
      return;
    }
    if (path === "/health" || path === "/healthz" || path === "/ready")
      return sendJson(res, 200, { status: "ok" });
    req.resume();
    return writeErrorResponse(
      res,
      errorResponse(new GatewayError("noRoute", `no route for ${method} ${path}`)),
    );
  }
  if (method !== "POST") {
    req.resume();
    return writeErrorResponse(
      res,
      errorResponse(new GatewayError("methodNotAllowed", `method ${method} is not supported; use POST`)),
    );
  }

  const ex = deps.director.begin(
    { method, url, headers: req.headers },
    { kind: "listeners", listenerKeys: keys },
  );
  const abort = new AbortController();
  const onClose = (): void => {
    if (!res.writableFinished) {
      ex.clientGone();
      abort.abort();
    }
  };
  res.on("close", onClose);
  try {
    let decision: Decision;
    try {
      const body = await readBody(req, deps.bodyLimit);
      decision = await ex.decide(body, abort.signal);
    } catch (e) {
      if (abort.signal.aborted) return; // the client went away (e.g. while queued): nobody to answer
      const err = asGatewayError(e);
      if (err.kind === "internal")
        deps.logger.error({ err: e, requestId: ex.id }, "unexpected error while deciding");
      writeErrorResponse(res, ex.fail(err));
      return;
    }
    await forward(ex, decision, req.headers, res, abort.signal, deps.pools);
  } finally {
    res.off("close", onClose);
    ex.end();
  }
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}
