import assert from "node:assert/strict";
import { test } from "node:test";
import { z } from "zod";
import { FieldIssueError, formatPath } from "../../src/config/field-issue.ts";
import { BUILTIN_REGISTRY } from "../../src/plugins/builtin-registry.ts";
import { definePlugin, type Plugin, PluginRegistry } from "../../src/plugins/registry.ts";

function issuesOf(build: () => unknown): string[] {
  try {
    build();
  } catch (e) {
    assert.ok(e instanceof FieldIssueError, String(e));
    return e.issues.map((i) => `${formatPath(i.path)}: ${i.message}`);
  }
  assert.fail("expected a FieldIssueError");
}

interface Greeter extends Plugin {
  greet(): string;
}
interface Counter extends Plugin {
  readonly start: number;
}
const greeter = definePlugin({
  type: "greeter",
  kind: "greeter",
  description: "says hello",
  parameters: z.strictObject({ to: z.string().default("world") }),
  create: (name, p): Greeter => ({ type: "greeter", name, greet: () => `hello ${p.to}` }),
});
const counter = definePlugin({
  type: "counter",
  kind: "counter",
  description: "counts from start",
  parameters: z.strictObject({ start: z.number().int().min(0) }),
  create: (name, p): Counter => ({ type: "counter", name, start: p.start }),
});
const registry = new PluginRegistry<{ greeter: Greeter; counter: Counter }>([greeter, counter]);

test("builds a plugin by type with validated parameters and its instance name", () => {
  const g = registry.create({ type: "greeter", name: "hi", parameters: { to: "you" } }, "greeter", "greeter");
  assert.equal(g.name, "hi");
  assert.equal(g.greet(), "hello you");
  assert.equal(registry.create({ type: "greeter" }, "greeter", "greeter").name, "greeter");
  const built = registry.build({ type: "counter", parameters: { start: 2 } });
  assert.equal(built.kind, "counter");
  assert.equal(built.kind === "counter" && built.plugin.start, 2);
});

test("unknown types, other kinds and bad parameters are issues at the spec's fields", () => {
  assert.deepEqual(
    issuesOf(() => registry.build({ type: "nope" })),
    ['type: unknown plugin type "nope" (known: greeter, counter)'],
  );
  assert.deepEqual(
    issuesOf(() => registry.create({ type: "counter" }, "greeter", "greeter")),
    ['type: "counter" is a counter, not a greeter (known: greeter)'],
  );
  const bad = issuesOf(() => registry.build({ type: "counter", parameters: { start: -1, extra: true } }));
  assert.equal(bad.length, 2, bad.join("\n"));
  assert.ok(bad.some((m) => m.startsWith("parameters.start: ")));
  assert.ok(bad.includes("parameters.extra: is not a known field"));
});

test("a type is registered once", () => {
  assert.throws(() => new PluginRegistry<{ greeter: Greeter }>([greeter, greeter]), /registered twice/);
});

test("every built-in type is kebab-case, has a one-line description, and a known kind", () => {
  const kinds = new Set(["filter", "scorer", "picker", "profile-handler"]);
  for (const k of ["saturation-detector", "fairness-policy", "ordering-policy", "queue"]) kinds.add(k);
  const defs = BUILTIN_REGISTRY.definitions();
  assert.ok(defs.length >= 27);
  for (const d of defs) {
    assert.match(d.type, /^[a-z]+(-[a-z]+)*$/, d.type);
    assert.ok(d.description.length > 10 && !d.description.includes("\n"), d.type);
    assert.ok(kinds.has(d.kind), `${d.type}: ${d.kind}`);
  }
  assert.deepEqual(BUILTIN_REGISTRY.types(["saturation-detector"]), [
    "utilization-detector",
    "concurrency-detector",
  ]);
});

test("every built-in builds from its defaults, or names the parameter it needs", () => {
  for (const type of BUILTIN_REGISTRY.types()) {
    try {
      const { plugin } = BUILTIN_REGISTRY.build({ type });
      assert.equal(plugin.type, type);
      assert.equal(plugin.name, type, "the instance name defaults to the type");
    } catch (e) {
      assert.ok(e instanceof FieldIssueError, `${type}: ${String(e)}`);
      assert.ok(
        e.issues.every((i) => i.path[0] === "parameters"),
        `${type}: ${e.message}`,
      );
    }
  }
});
