import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { ModelRewrite } from "../../src/requestcontrol/model-rewrite.ts";

/** The rewrite as a regular expression on decoded text: the oracle for valid UTF-8. */
function reference(text: string, target: string, client: string): string {
  const t = JSON.stringify(target).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return text.replace(
    new RegExp(`"model"[ \\t\\n\\v\\f\\r]*:[ \\t\\n\\v\\f\\r]*${t}`, "g"),
    () => `"model":${JSON.stringify(client)}`,
  );
}

test("every model field holding the target is rewritten, whatever JSON whitespace; other fields are left alone", () => {
  const r = new ModelRewrite("travel-helper-v1", "travel-helper");
  const cases: [string, string][] = [
    ['{"model":"travel-helper-v1"}', '{"model":"travel-helper"}'],
    ['{"model" :\t "travel-helper-v1","x":1}', '{"model":"travel-helper","x":1}'],
    ['{"model":\n"travel-helper-v1"}', '{"model":"travel-helper"}'],
    [
      '{"note":"travel-helper-v1","model":"travel-helper-v1"}',
      '{"note":"travel-helper-v1","model":"travel-helper"}',
    ],
    ['{"model":"travel-helper-v10"}', '{"model":"travel-helper-v10"}'],
    ['{"xmodel":"travel-helper-v1"}', '{"xmodel":"travel-helper-v1"}'],
    ['{"text":"\\"model\\":\\"travel-helper-v1\\""}', '{"text":"\\"model\\":\\"travel-helper-v1\\""}'],
    [
      'data: {"model":"travel-helper-v1"}\n\ndata: {"model":"travel-helper-v1","t":"é"}\n\n',
      'data: {"model":"travel-helper"}\n\ndata: {"model":"travel-helper","t":"é"}\n\n',
    ],
  ];
  for (const [input, want] of cases) assert.equal(r.apply(Buffer.from(input)).toString(), want, input);
});

test("a buffer without the target comes back as the same Buffer (no copy)", () => {
  const buf = Buffer.from('data: {"model":"qwen","text":"hi"}\n\n');
  assert.equal(new ModelRewrite("qwen-lora", "qwen").apply(buf), buf);
  const named = Buffer.from('{"note":"qwen-lora"}');
  assert.equal(new ModelRewrite("qwen-lora", "qwen").apply(named), named);
});

test("the byte rewrite equals the regular expression on decoded text, names with non-ASCII included", () => {
  const names = fc.constantFrom("qwen-lora", "modèle-ü", "a", 'q"x', "日本");
  const piece = fc.oneof(
    fc.constantFrom(
      '"model"',
      ":",
      " ",
      "\t",
      "\n",
      ",",
      "{",
      "}",
      '"',
      "\\",
      '"model":',
      "é",
      "€",
      "data: ",
    ),
    names.map((n) => JSON.stringify(n)),
    fc.string({ maxLength: 4 }),
  );
  fc.assert(
    fc.property(names, names, fc.array(piece, { maxLength: 30 }), (target, client, pieces) => {
      const text = pieces.join("");
      const got = new ModelRewrite(target, client).apply(Buffer.from(text)).toString();
      assert.equal(got, reference(text, target, client));
    }),
    { numRuns: 2000 },
  );
});
