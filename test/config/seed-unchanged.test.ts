import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { test } from "node:test";

// The user's manifests must stay exactly as the seed gave them (no reformatting, no edits).
test("examples/seed holds the seed's manifests byte for byte", () => {
  const expected = [
    ["inference-gateway.yaml", "d15fd3ba98fc13f8e7ec57af124989cf2bb8788aa601bf6cf5b94f80cafd2c07"],
    ["inference-pool.yaml", "ea64df3b791beb5580a151950f44187573267d3272eed630d71ad15cb389afc9"],
    ["vllm-service.yaml", "9c0c3a4b55aef65c42637ebb6843b3f1a6a924f1277d770b703480573c64c025"],
  ];
  for (const [name, sha256] of expected) {
    const actual = createHash("sha256")
      .update(readFileSync(`examples/seed/${name}`))
      .digest("hex");
    assert.equal(actual, sha256, `examples/seed/${name} was changed`);
  }
});
