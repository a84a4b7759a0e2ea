/**
 * One endpoint as a source declares it: an address and the labels a pool's selector is matched
 * against (exactly as a Pod's). Sources (the endpoints file, a Pod watch) produce these; the
 * datastore turns them into pool members.
 */
export interface EndpointSpec {
  readonly host: string;
  /** Undefined = use the pool's target port(s). */
  readonly port?: number;
  readonly labels: Readonly<Record<string, string>>;
  /** A Pod's namespace: only pools of that namespace select it. Undefined = any pool (the endpoints file). */
  readonly namespace?: string;
}
