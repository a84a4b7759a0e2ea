/**
 * The HTTP adapter (node:http): `POST` requests go through the director and `forward`;
 * `GET /v1/models` (and `/v1/models/{id}`), `/metrics` and `/health` are answered by the gateway itself. Errors become
 * OpenAI-shaped JSON; the server keeps serving after each.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { Datastore } from "../datastore/datastore.ts";
import { ErrorKinds, GatewayError } from "../errors.ts";
import type { GatewayMetrics } from "../observability/gateway-metrics.ts";
import type { Director } from "../requestcontrol/director.ts";
import { forward } from "./forward.ts";
import { listModels } from "./models-list.ts";
import { readBody } from "./read-body.ts";
import { sendError } from "./send-error.ts";
import type { UpstreamPools } from "./upstream-pools.ts";

export interface GatewayServerDeps {
  readonly director: Director;
  readonly datastore: Datastore;
  readonly pools: UpstreamPools;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  /** Max request body, bytes. */
  readonly bodyLimit: number;
  /** Endpoints tried per request (first included). */
  readonly maxAttempts: number;
  /** Answer with the scheduler's decision explanation header. */
  readonly explainHeader?: boolean;
}

/** A server for one port; `listenerKeys()` names the listeners (routes) it serves right now. */
export function createGatewayServer(deps: GatewayServerDeps, listenerKeys: () => readonly string[]): Server {
  const server = createServer({ noDelay: true, keepAliveTimeout: 65_000 }, (req, res) => {
    handle(deps, listenerKeys(), req, res).catch((e: unknown) => {
      deps.logger.error({ err: e }, "unexpected error while handling a request");
      sendError(res, new GatewayError("internal", "internal gateway error"));
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
      return sendError(
        res,
        new GatewayError("modelNotFound", `The model '${id}' does not exist`, { param: "model" }),
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
    return sendError(res, new GatewayError("noRoute", `no route for ${method} ${path}`));
  }
  if (method !== "POST") {
    req.resume();
    return sendError(
      res,
      new GatewayError("methodNotAllowed", `method ${method} is not supported; use POST`),
    );
  }

  // Every answer, errors included, carries the request id (the client's, or one made here).
  const requestId =
    typeof req.headers["x-request-id"] === "string" && req.headers["x-request-id"] !== ""
      ? req.headers["x-request-id"]
      : randomUUID();
  req.headers["x-request-id"] = requestId;
  const abort = new AbortController();
  const onClose = (): void => {
    if (!res.writableFinished) abort.abort();
  };
  res.on("close", onClose);
  try {
    let prepared: Awaited<ReturnType<Director["prepare"]>>;
    try {
      const body = await readBody(req, deps.bodyLimit).catch((e: unknown) => {
        if (e instanceof GatewayError) deps.metrics.rejected("", ErrorKinds[e.kind].code);
        throw e;
      });
      prepared = await deps.director.prepare({ method, url, headers: req.headers, body }, keys, abort.signal);
    } catch (e) {
      if (abort.signal.aborted) return; // the client went away (e.g. while queued): nobody to answer
      if (!(e instanceof GatewayError)) throw e;
      deps.logger.debug({ status: e.status, code: e.kind, msg: e.message }, "request refused");
      sendError(res, e, requestId);
      return;
    }
    if (prepared.explanation)
      deps.logger.debug(
        { requestId: prepared.parsed.id, decision: prepared.explanation },
        "scheduling decision",
      );
    await forward(deps.director, deps.pools, prepared, res, abort.signal, {
      maxAttempts: deps.maxAttempts,
      logger: deps.logger,
      ...(deps.explainHeader ? { explainHeader: true } : {}),
    });
  } finally {
    res.off("close", onClose);
  }
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}
