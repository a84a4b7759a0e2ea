/** One model-server endpoint (a pod's ip:port, or an entry of the standalone endpoints file). */
export interface Endpoint {
  /** Stable key, `host:port`; what the destination header carries. */
  readonly id: string;
  readonly host: string;
  readonly port: number;
  /** Labels matched against a pool's selector, exactly as a pod's labels are. */
  readonly labels: Readonly<Record<string, string>>;
}
