// deploy/crds/ is generated from the zod schemas (npm run gen:crds): the committed files must be
// current, and the converter must refuse zod constructs that have no structural-schema form.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { z } from "zod";
import { CRD_SOURCES, crdFiles } from "../../src/api/crd/definitions.ts";
import { structuralSchema } from "../../src/api/crd/structural-schema.ts";
import { REPO_ROOT } from "../helpers/testenv.ts";

const DIR = join(REPO_ROOT, "deploy", "crds");

describe("deploy/crds", () => {
  it("are current: regenerating from src/api changes nothing (else run npm run gen:crds)", () => {
    const files = crdFiles();
    assert.deepEqual(
      readdirSync(DIR)
        .filter((n) => n.endsWith(".yaml"))
        .sort(),
      files.map((f) => f.fileName).sort(),
    );
    for (const { fileName, text } of files) {
      assert.equal(
        readFileSync(join(DIR, fileName), "utf8"),
        text,
        `${fileName} is stale: run npm run gen:crds`,
      );
    }
  });

  it("cover every inference kind and version, with upstream's group and plural", () => {
    const served = CRD_SOURCES.map((s) => `${s.plural}.${s.group}/${s.version}`).sort();
    assert.deepEqual(served, [
      "inferencemodelrewrites.inference.networking.x-k8s.io/v1alpha2",
      "inferencemodels.inference.networking.x-k8s.io/v1alpha2",
      "inferenceobjectives.inference.networking.x-k8s.io/v1alpha2",
      "inferencepools.inference.networking.k8s.io/v1",
      "inferencepools.inference.networking.x-k8s.io/v1alpha2",
    ]);
  });
});

describe("structuralSchema", () => {
  it("keeps bounds and formats as Kubernetes expects them", () => {
    const s = structuralSchema(
      z.object({
        port: z.number().int().min(1).max(65535),
        priority: z.number().int().optional(),
        mode: z.enum(["A", "B"]).default("A"),
        labels: z.record(z.string().min(1), z.string()),
      }),
    );
    assert.deepEqual(s, {
      type: "object",
      properties: {
        port: { type: "integer", minimum: 1, maximum: 65535, format: "int32" },
        priority: { type: "integer" },
        mode: { type: "string", enum: ["A", "B"], default: "A" },
        labels: { type: "object", additionalProperties: { type: "string" } },
      },
      required: ["port", "labels"],
    });
  });

  it("refuses unions and closed objects, naming the field", () => {
    assert.throws(() => structuralSchema(z.object({ a: z.union([z.string(), z.number()]) })), /\.a: "anyOf"/);
    assert.throws(
      () => structuralSchema(z.object({ b: z.strictObject({ c: z.string() }) })),
      /\.b: closed objects/,
    );
    assert.throws(() => structuralSchema(z.object({ d: z.string().nullable().or(z.number()) })), /\.d:/);
  });
});
