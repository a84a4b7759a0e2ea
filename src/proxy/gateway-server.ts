/**
 * The HTTP adapter: each `POST` is one exchange of the director, forwarded by `forward`;
 * `GET /v1/models` (and `/v1/models/{id}`), `/metrics`, `/health` and `/dashboard` are answered by
 * the gateway itself. Errors become OpenAI-shaped JSON; the server keeps serving after each.
 */
import type { Logger } from "pino";
import type { Datastore } from "../datastore/datastore.ts";
import { clip, GatewayError } from "../errors.ts";
import type { GatewayMetrics } from "../observability/gateway-metrics.ts";
import type { Decision } from "../requestcontrol/decision.ts";
import { type Director, notProxiedMessage } from "../requestcontrol/director.ts";
import { asGatewayError, errorResponse } from "../requestcontrol/error-response.ts";
import { JsonBudget } from "../requestcontrol/json-budget.ts";
import { ProxiedRequest } from "./forward.ts";
import {
  BodyError,
  createHttp1Server,
  type Http1Reply,
  type Http1Request,
  type Http1Server,
} from "./http1/server.ts";
import { listModels } from "./models-list.ts";
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
  /** From a request's first byte to the end of its body, ms. Default 30,000. */
  readonly requestTimeoutMs?: number;
  /** Open client connections at most. Default 16,384. */
  readonly maxConnections?: number;
  /** Answers `/dashboard*` GETs (true when it did); without it those paths are 404. */
  readonly dashboard?: (req: Http1Request, res: Http1Reply) => boolean;
}

/** A server for one port; `listenerKeys()` names the listeners (routes) it serves right now. */
export function createGatewayServer(
  deps: GatewayServerDeps,
  listenerKeys: () => readonly string[],
): Http1Server {
  return createHttp1Server(
    (req, res) => {
      handle(deps, listenerKeys(), req, res).catch((e: unknown) => {
        deps.logger.error({ err: e }, "unexpected error while handling a request");
        writeErrorResponse(res, errorResponse(asGatewayError(e)));
      });
    },
    {
      bodyLimit: deps.bodyLimit,
      ...(deps.requestTimeoutMs !== undefined ? { requestTimeoutMs: deps.requestTimeoutMs } : {}),
      ...(deps.maxConnections !== undefined ? { maxConnections: deps.maxConnections } : {}),
      onConnectionsDropped: (n) =>
        deps.logger.warn(
          { dropped: n },
          `refused ${n} client connection(s): the gateway holds its maximum of open connections (--max-connections)`,
        ),
      onAcceptFailed: (n, err) =>
        deps.logger.error({ failed: n, err }, `could not accept ${n} client connection(s): ${err.message}`),
    },
  );
}

async function handle(
  deps: GatewayServerDeps,
  keys: readonly string[],
  req: Http1Request,
  res: Http1Reply,
): Promise<void> {
  const { url, method } = req;
  if (method === "GET" || method === "HEAD") return answerGet(deps, keys, req, res);
  if (method !== "POST")
    return writeErrorResponse(
      res,
      errorResponse(new GatewayError("methodNotAllowed", `method ${method} is not supported; use POST`)),
    );

  const ex = deps.director.begin(
    { method, url, headers: req.headers },
    { kind: "listeners", listenerKeys: keys },
  );
  const q = url.indexOf("?");
  const path = q < 0 ? url : url.slice(0, q);
  if (!deps.director.proxiesPath(keys, path)) {
    // Refused before the body is read; still an exchange, so metrics and logs see it.
    writeErrorResponse(res, ex.fail(new GatewayError("noRoute", notProxiedMessage(path))));
    ex.end();
    return;
  }
  const proxied = new ProxiedRequest(ex, res, req.headers, deps.pools);
  // The body's parse cost is checked as it arrives: an over-budget body is refused unread.
  const budget = new JsonBudget();
  let decision: Decision;
  try {
    const body = await req.body((chunk) => budget.push(chunk));
    decision = await ex.decide(body, proxied, budget);
  } catch (thrown) {
    const e = thrown instanceof BodyError ? bodyError(thrown, budget) : thrown;
    // The client went away (e.g. while queued): nobody to answer.
    if (!proxied.aborted) {
      const err = asGatewayError(e);
      if (err.kind === "internal")
        deps.logger.error({ err: e, requestId: ex.id }, "unexpected error while deciding");
      writeErrorResponse(res, ex.fail(err));
    }
    ex.end();
    return;
  }
  // From here the ProxiedRequest owns the exchange and ends it exactly once.
  try {
    proxied.start(decision);
  } catch (e) {
    deps.logger.error({ err: e, requestId: ex.id }, "unexpected error while forwarding");
    writeErrorResponse(res, ex.fail(e));
    ex.end();
  }
}

function bodyError(e: BodyError, budget: JsonBudget): GatewayError {
  if (budget.error !== undefined) return new GatewayError("tooComplex", budget.error);
  return new GatewayError(
    e.status === 413 ? "payloadTooLarge" : e.status === 408 ? "requestTimeout" : "invalidRequest",
    e.message,
  );
}

async function answerGet(
  deps: GatewayServerDeps,
  keys: readonly string[],
  req: Http1Request,
  res: Http1Reply,
): Promise<void> {
  const path = req.url.split("?", 1)[0]!;
  if (path === "/v1/models") return sendJson(res, 200, listModels(deps.datastore, keys));
  if (path.startsWith("/v1/models/")) {
    let id: string;
    try {
      id = decodeURIComponent(path.slice("/v1/models/".length));
    } catch {
      return writeErrorResponse(
        res,
        errorResponse(
          new GatewayError("invalidRequest", "the model id in the path is not valid percent-encoding"),
        ),
      );
    }
    const model = listModels(deps.datastore, keys).data.find((m) => m.id === id);
    if (model) return sendJson(res, 200, model);
    return writeErrorResponse(
      res,
      errorResponse(
        new GatewayError("modelNotFound", `The model '${clip(id)}' does not exist`, { param: "model" }),
      ),
    );
  }
  if (path === "/metrics") {
    const text = await deps.metrics.registry.metrics();
    res.writeHead(200, {
      "content-type": deps.metrics.registry.contentType,
      "content-length": Buffer.byteLength(text),
    });
    res.end(text);
    return;
  }
  if (path === "/health" || path === "/healthz" || path === "/ready")
    return sendJson(res, 200, { status: "ok" });
  if (deps.dashboard?.(req, res)) return;
  return writeErrorResponse(
    res,
    errorResponse(new GatewayError("noRoute", `no route for ${req.method} ${clip(path)}`)),
  );
}

function sendJson(res: Http1Reply, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}
