// Types for the dev-only oracle (the package ships none).
declare module "parse-prometheus-text-format" {
  interface OracleMetric {
    value?: string;
    labels?: Record<string, string>;
    timestamp_ms?: string;
    buckets?: Record<string, string>;
    quantiles?: Record<string, string>;
    count?: string;
    sum?: string;
  }
  interface OracleFamily {
    name: string;
    help: string;
    type: string;
    metrics: OracleMetric[];
  }
  export default function parsePrometheusTextFormat(text: string): OracleFamily[];
}
