import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { test } from "node:test";
import { createLogger, resolveLogFormat } from "../../src/observability/logger.ts";

/** A logger writing into memory; `lines()` are the lines written so far. */
function capture(format: "json" | "text"): {
  logger: ReturnType<typeof createLogger>;
  lines: () => string[];
} {
  let out = "";
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out += chunk.toString();
      cb();
    },
  });
  return {
    logger: createLogger("debug", format, stream),
    lines: () => out.split("\n").filter((l) => l !== ""),
  };
}

/** The keys of a JSON object's top level, in order, duplicates kept (JSON.parse would drop them). */
function topLevelKeys(json: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i]!;
    if (c === '"') {
      let j = i + 1;
      while (json[j] !== '"') j += json[j] === "\\" ? 2 : 1;
      if (depth === 1 && expectKey) keys.push(JSON.parse(json.slice(i, j + 1)) as string);
      expectKey = false;
      i = j;
    } else if (c === "{" || c === "[") {
      depth++;
      expectKey = c === "{" && depth === 1;
    } else if (c === "}" || c === "]") depth--;
    else if (c === "," && depth === 1) expectKey = true;
  }
  return keys;
}

test("JSON lines carry every key once, even when a field is called name, msg, level or time", async () => {
  const { logger, lines } = capture("json");
  logger.info({ name: "default/qwen-pool", pool: "p" }, "pool loaded");
  logger.debug({ msg: "upstream said no", level: "x", time: 3, status: 400 }, "request refused");
  const [a, b] = lines();
  assert.deepEqual(topLevelKeys(a!), ["level", "time", "name", "pool", "msg"]);
  assert.deepEqual(JSON.parse(a!).name, "default/qwen-pool");
  assert.deepEqual(topLevelKeys(b!), ["level", "time", "status", "fields", "msg"]);
  assert.deepEqual(JSON.parse(b!).fields, { msg: "upstream said no", level: "x", time: 3 });
  assert.equal(JSON.parse(b!).msg, "request refused");
});

test("JSON lines have no pid, hostname or logger name", () => {
  const { logger, lines } = capture("json");
  logger.info("hello");
  assert.deepEqual(topLevelKeys(lines()[0]!), ["level", "time", "msg"]);
});

test("text lines are for people: time, level, message, fields, and never JSON", () => {
  const { logger, lines } = capture("text");
  logger.warn({ pool: "default/p", endpoints: 2 }, "hello");
  logger.error({ err: new Error("boom") }, "failed");
  const [first] = lines();
  assert.match(first!, /^\[\d\d:\d\d:\d\d\] WARN: hello \{"pool":"default\/p","endpoints":2\}$/);
  for (const l of lines()) assert.throws(() => JSON.parse(l));
  assert.ok(
    lines().some((l) => l.includes("Error: boom")),
    "the stack is printed",
  );
});

test("auto is text on a terminal and JSON otherwise", () => {
  assert.equal(resolveLogFormat("auto", { isTTY: true }), "text");
  assert.equal(resolveLogFormat("auto", { isTTY: false }), "json");
  assert.equal(resolveLogFormat("auto", {}), "json");
  assert.equal(resolveLogFormat("json", { isTTY: true }), "json");
  assert.equal(resolveLogFormat("text", { isTTY: false }), "text");
});
