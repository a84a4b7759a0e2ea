// Our hand-written ext_proc protos (proto/) against Envoy's data-plane-api (crates.io envoy-types,
// installed by `npm run testenv -- ensure envoy-api`): every message, field and enum value we
// declare must exist upstream with the same number, type, label and oneof; and a message we
// encode must decode with upstream's schema to the same content.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";
import { testTool } from "../helpers/testenv.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** protobufjs ships google/protobuf/*.proto (descriptor, struct, duration, ...). */
const PROTOBUFJS = dirname(createRequire(import.meta.url).resolve("protobufjs/package.json"));
const FILES = [
  "envoy/service/ext_proc/v3/external_processor.proto",
  "envoy/extensions/filters/http/ext_proc/v3/processing_mode.proto",
  "envoy/config/core/v3/base.proto",
  "envoy/type/v3/http_status.proto",
];

function load(dirs: string[], files: string[]): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => {
    if (target.startsWith("/")) return target;
    for (const d of dirs) if (existsSync(join(d, target))) return join(d, target);
    return target;
  };
  root.loadSync(files, { keepCase: true });
  root.resolveAll();
  return root;
}

function walk(
  ns: protobuf.NamespaceBase,
  out: protobuf.ReflectionObject[] = [],
): protobuf.ReflectionObject[] {
  for (const obj of ns.nestedArray) {
    if (obj instanceof protobuf.Type || obj instanceof protobuf.Enum || obj instanceof protobuf.Service)
      out.push(obj);
    if (obj instanceof protobuf.Namespace || obj instanceof protobuf.Type) walk(obj, out);
  }
  return out;
}

function fieldShape(f: protobuf.Field) {
  return {
    id: f.id,
    type: f.resolvedType ? f.resolvedType.fullName : f.type,
    repeated: f.repeated,
    map: f.map,
    keyType: f instanceof protobuf.MapField ? f.keyType : undefined,
    oneof: f.partOf?.name,
  };
}

describe("hand-written ext_proc protos match Envoy's data-plane-api", () => {
  const api = testTool("envoy-api");
  const upstream = load(
    [
      PROTOBUFJS,
      ...["data-plane-api", "xds", "protoc-gen-validate", "googleapis", "cel-spec"].map((d) => join(api, d)),
    ],
    FILES,
  );
  const ours = load([join(ROOT, "proto"), PROTOBUFJS], FILES);
  const declared = walk(ours).filter((o) => o.fullName.startsWith(".envoy."));

  it("declares the messages, enums and the service it needs", () => {
    const names = declared.map((o) => o.fullName);
    for (const n of [
      ".envoy.service.ext_proc.v3.ExternalProcessor",
      ".envoy.service.ext_proc.v3.StreamedBodyResponse",
      ".envoy.service.ext_proc.v3.ProtocolConfiguration",
      ".envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode",
    ])
      assert.ok(names.includes(n), `${n} is declared`);
  });

  it("every field has upstream's number, type, label and oneof", () => {
    let fields = 0;
    for (const obj of declared) {
      if (!(obj instanceof protobuf.Type)) continue;
      const up = upstream.lookupType(obj.fullName);
      for (const f of obj.fieldsArray) {
        const u = up.fields[f.name];
        assert.ok(u, `${obj.fullName}.${f.name} exists upstream`);
        assert.deepEqual(fieldShape(f), fieldShape(u), `${obj.fullName}.${f.name}`);
        fields++;
      }
      for (const [name, o] of Object.entries(obj.oneofs ?? {}))
        assert.deepEqual(
          o.oneof.filter((n) => !up.oneofs[name]!.oneof.includes(n)),
          [],
          `${obj.fullName} oneof ${name}`,
        );
    }
    assert.ok(fields > 50, `checked ${fields} fields`);
  });

  it("every enum value has upstream's number", () => {
    for (const obj of declared) {
      if (!(obj instanceof protobuf.Enum)) continue;
      const up = upstream.lookupEnum(obj.fullName);
      for (const [name, id] of Object.entries(obj.values))
        assert.equal(up.values[name], id, `${obj.fullName}.${name}`);
    }
  });

  it("the service method has upstream's name and streaming on both sides", () => {
    const m = ours.lookupService(".envoy.service.ext_proc.v3.ExternalProcessor").methods["Process"]!;
    const u = upstream.lookupService(".envoy.service.ext_proc.v3.ExternalProcessor").methods["Process"]!;
    assert.deepEqual(
      [m.requestType, m.responseType, m.requestStream, m.responseStream],
      [u.requestType, u.responseType, u.requestStream, u.responseStream],
    );
  });

  it("a ProcessingResponse we encode reads back the same under upstream's schema", () => {
    const value = {
      request_headers: {
        response: {
          header_mutation: {
            set_headers: [
              {
                header: { key: "x-gateway-destination-endpoint", raw_value: Buffer.from("10.0.0.1:8000") },
                append_action: 2,
              },
            ],
            remove_headers: ["x-gateway-destination-endpoint-subset"],
          },
          body_mutation: { streamed_response: { body: Buffer.from("{}"), end_of_stream: true } },
          clear_route_cache: true,
        },
      },
      // google.protobuf.Struct comes from protobufjs's bundled, camelCase definitions in both roots.
      dynamic_metadata: {
        fields: {
          "envoy.lb": {
            structValue: {
              fields: { "x-gateway-destination-endpoint": { stringValue: "10.0.0.1:8000,10.0.0.2:8000" } },
            },
          },
        },
      },
    };
    const name = ".envoy.service.ext_proc.v3.ProcessingResponse";
    const bytes = ours.lookupType(name).encode(ours.lookupType(name).fromObject(value)).finish();
    const back = upstream
      .lookupType(name)
      .toObject(upstream.lookupType(name).decode(bytes), { bytes: Buffer });
    assert.deepEqual(JSON.parse(JSON.stringify(back)), JSON.parse(JSON.stringify(value)));
  });
});
