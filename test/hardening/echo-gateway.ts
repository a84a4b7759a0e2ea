/**
 * One in-process gateway in front of one echoing fake engine for a test file: started in
 * `before`, closed in `after`. Requests go out as raw bytes (raw-http.ts).
 */
import { after, before } from "node:test";
import { echoHandler, type FakeUpstream, startFakeUpstream } from "../helpers/fake-upstream.ts";
import { type InProcessGateway, startInProcessGateway } from "../helpers/in-process-gateway.ts";
import { type RawResponse, rawRequest } from "./raw-http.ts";

export interface EchoGateway {
  /** The fake engine (what reached it: `received`). */
  readonly upstream: FakeUpstream;
  /** The gateway's port. */
  readonly port: number;
  /** POSTs `body` (JSON text) to `path` with a Content-Length. */
  post(path: string, body: string): Promise<RawResponse>;
}

/** Registers the hooks; the returned object is usable inside tests (endpoints labelled `app: t`). */
export function useEchoGateway(manifests: string): EchoGateway {
  let upstream: FakeUpstream | undefined;
  let gateway: InProcessGateway | undefined;
  let port = 0;
  before(async () => {
    upstream = await startFakeUpstream(echoHandler);
    gateway = await startInProcessGateway(manifests, [upstream.address], { app: "t" });
    port = Number(new URL(gateway.gw.url).port);
  });
  after(async () => {
    await gateway?.close();
    await upstream?.close();
  });
  return {
    get upstream() {
      return upstream!;
    },
    get port() {
      return port;
    },
    post: (path, body) =>
      rawRequest(
        port,
        `POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n` +
          `content-length: ${Buffer.byteLength(body)}`,
        body,
      ),
  };
}
