/**
 * The ext_proc wire types: TypeScript shapes of the messages of the hand-written subset of Envoy's
 * protos in `proto/` (see its README), as our codec (wire-reader.ts, wire-writer.ts) decodes and
 * encodes them: camelCase fields, enums and 64-bit ints as numbers, bytes as Buffer, oneofs named;
 * the shapes @grpc/proto-loader gives with camelCase, Number, Buffer, oneofs and no defaults.
 */
/** Full service name: gRPC path `/envoy.service.ext_proc.v3.ExternalProcessor/Process`. */
export const EXT_PROC_SERVICE = "envoy.service.ext_proc.v3.ExternalProcessor";

/** The HTTP/2 path of Process, a bidirectional stream of ProcessingRequest / ProcessingResponse. */
export const PROCESS_PATH = `/${EXT_PROC_SERVICE}/Process`;

/** ProcessingMode.BodySendMode. */
export const BodySendMode = {
  NONE: 0,
  STREAMED: 1,
  BUFFERED: 2,
  BUFFERED_PARTIAL: 3,
  FULL_DUPLEX_STREAMED: 4,
  GRPC: 5,
} as const;

/** HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD. */
export const OVERWRITE_IF_EXISTS_OR_ADD = 2;

export interface HeaderValue {
  key?: string;
  value?: string;
  rawValue?: Buffer;
}
export interface HeaderMap {
  headers?: HeaderValue[];
}
export interface HttpHeaders {
  headers?: HeaderMap;
  endOfStream?: boolean;
}
export interface HttpBody {
  body?: Buffer;
  endOfStream?: boolean;
}
export interface HttpTrailers {
  trailers?: HeaderMap;
}
export interface ProtocolConfiguration {
  requestBodyMode?: number;
  responseBodyMode?: number;
  sendBodyWithoutWaitingForHeaderResponse?: boolean;
}

/** google.protobuf.Value as decoded (`kind` names the member set). */
export interface ProtoValue {
  kind?: string;
  nullValue?: number;
  numberValue?: number;
  stringValue?: string;
  boolValue?: boolean;
  structValue?: ProtoStruct;
  listValue?: { values?: ProtoValue[] };
}
export interface ProtoStruct {
  fields?: Record<string, ProtoValue>;
}

export interface ProcessingRequest {
  request?:
    | "requestHeaders"
    | "responseHeaders"
    | "requestBody"
    | "responseBody"
    | "requestTrailers"
    | "responseTrailers";
  requestHeaders?: HttpHeaders;
  responseHeaders?: HttpHeaders;
  requestBody?: HttpBody;
  responseBody?: HttpBody;
  requestTrailers?: HttpTrailers;
  responseTrailers?: HttpTrailers;
  metadataContext?: { filterMetadata?: Record<string, ProtoStruct> };
  /** Per filter name (`envoy.filters.http.ext_proc`): the requested attributes, e.g. `upstream.address`. */
  attributes?: Record<string, ProtoStruct>;
  observabilityMode?: boolean;
  /** Sent by Envoy on the first message of a stream. */
  protocolConfig?: ProtocolConfiguration;
}

export interface HeaderValueOption {
  header: { key: string; rawValue: Buffer };
  appendAction?: number;
}
export interface HeaderMutation {
  setHeaders?: HeaderValueOption[];
  removeHeaders?: string[];
}
export interface StreamedBodyResponse {
  body: Buffer;
  endOfStream: boolean;
}
export type BodyMutation =
  | { body: Buffer }
  | { clearBody: true }
  | { streamedResponse: StreamedBodyResponse };
export interface CommonResponse {
  /** ResponseStatus: CONTINUE 0, CONTINUE_AND_REPLACE 1. */
  status?: number;
  headerMutation?: HeaderMutation;
  bodyMutation?: BodyMutation;
  clearRouteCache?: boolean;
}
export interface ImmediateResponse {
  status: { code: number };
  headers?: HeaderMutation;
  body?: Buffer;
  details?: string;
}

export interface ProcessingResponse {
  requestHeaders?: { response?: CommonResponse };
  responseHeaders?: { response?: CommonResponse };
  requestBody?: { response?: CommonResponse };
  responseBody?: { response?: CommonResponse };
  requestTrailers?: { headerMutation?: HeaderMutation };
  responseTrailers?: { headerMutation?: HeaderMutation };
  immediateResponse?: ImmediateResponse;
  dynamicMetadata?: ProtoStruct;
}
