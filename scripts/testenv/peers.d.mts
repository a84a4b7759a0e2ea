/** The pinned peer routers: PyPI name, version, the module whose launch_router is the CLI. */
export const PEERS: readonly { name: "vllm-router" | "sglang-router"; version: string; module: string }[];
/** name -> version of the peers installed in the cache (empty when none). */
export function peerVersions(cache: string): Record<string, string>;
export const component: {
  name: string;
  description: string;
  suite: boolean;
  ensure(ctx: { cache: string; log: (m: string) => void }): Promise<Record<string, string>>;
};
