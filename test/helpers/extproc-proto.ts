/**
 * The ext_proc service as @grpc/proto-loader reads it from proto/, for test clients and for checking
 * igw's hand-written codec (src/extproc/wire-*.ts) against protobufjs.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { MethodDefinition, ServiceDefinition } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { EXT_PROC_SERVICE } from "../../src/extproc/protocol.ts";

const PROTO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "proto");

/** The loader options whose output shapes src/extproc/protocol.ts declares. */
const LOADER_OPTIONS = {
  keepCase: false,
  longs: Number,
  enums: Number,
  bytes: Buffer,
  defaults: false,
  oneofs: true,
  includeDirs: [PROTO_ROOT],
};

/**
 * The service definition, with proto-loader's (protobufjs) serializers on both sides; `defaults`:
 * decoded messages carry every field (false, 0, "" included), for comparing encodings.
 */
export function loadExtProcService(defaults = false): ServiceDefinition {
  const pkg = loadSync("envoy/service/ext_proc/v3/external_processor.proto", { ...LOADER_OPTIONS, defaults });
  return pkg[EXT_PROC_SERVICE] as ServiceDefinition;
}

/** Process's method definition (see loadExtProcService). */
export function processMethod(defaults = false): MethodDefinition<object, object> {
  return loadExtProcService(defaults)["Process"] as MethodDefinition<object, object>;
}
