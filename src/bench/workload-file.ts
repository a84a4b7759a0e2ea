import { readFileSync } from "node:fs";
import { LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import type { ClassOverrides } from "./config.ts";

const num = z
  .union([z.number(), z.literal("inf")])
  .transform((v) => (v === "inf" ? Number.POSITIVE_INFINITY : v));
const int = (min: number) => z.number().int().min(min);

const classSchema = z
  .object({
    name: z.string().min(1),
    model: z.string().min(1).optional(),
    rate: num.optional(),
    burstiness: num.optional(),
    concurrency: int(1).optional(),
    "num-prompts": int(1).optional(),
    "input-len": int(0).optional(),
    "output-len": int(1).optional(),
    "prefix-len": int(0).optional(),
    "range-ratio": z.number().min(0).lt(1).optional(),
    priority: z.number().int().optional(),
    headers: z.record(z.string(), z.union([z.string(), z.number()]).transform(String)).optional(),
    slo: z
      .object({ ttft: z.number().min(0), tpot: z.number().min(0), e2el: z.number().min(0) })
      .partial()
      .strict()
      .optional(),
    seed: int(0).optional(),
  })
  .strict();

const workloadSchema = z.object({ classes: z.array(classSchema).min(1) }).strict();

/**
 * Reads a workload file: `classes:` is a list of objects with the `--class` keys (`headers:` a map,
 * `slo:` a map of ms). Errors read "FILE:LINE: field: reason".
 */
export function loadWorkload(path: string): ClassOverrides[] {
  const text = readFileSync(path, "utf8");
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  const lineOf = (offset: number | undefined) =>
    offset === undefined ? 1 : lineCounter.linePos(offset).line;
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new Error(`${path}:${lineOf(e.pos[0])}: ${e.message}`);
  }
  const parsed = workloadSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const keyPath = issue.path.map(String);
    let node = doc.getIn(keyPath, true) as { range?: [number, number, number] } | undefined;
    for (let i = keyPath.length - 1; !node?.range && i >= 0; i--) {
      node = doc.getIn(keyPath.slice(0, i), true) as { range?: [number, number, number] } | undefined;
    }
    const field = keyPath.join(".") || "(root)";
    throw new Error(`${path}:${lineOf(node?.range?.[0])}: ${field}: ${issue.message}`);
  }
  const names = new Set<string>();
  return parsed.data.classes.map((c, i) => {
    if (names.has(c.name)) {
      const node = doc.getIn(["classes", i, "name"], true) as
        | { range?: [number, number, number] }
        | undefined;
      throw new Error(
        `${path}:${lineOf(node?.range?.[0])}: classes.${i}.name: duplicate class name "${c.name}"`,
      );
    }
    names.add(c.name);
    const o: ClassOverrides = { name: c.name };
    if (c.model !== undefined) o.model = c.model;
    if (c.rate !== undefined) o.requestRate = c.rate;
    if (c.burstiness !== undefined) o.burstiness = c.burstiness;
    if (c.concurrency !== undefined) o.maxConcurrency = c.concurrency;
    if (c["num-prompts"] !== undefined) o.numPrompts = c["num-prompts"];
    if (c["input-len"] !== undefined) o.inputLen = c["input-len"];
    if (c["output-len"] !== undefined) o.outputLen = c["output-len"];
    if (c["prefix-len"] !== undefined) o.prefixLen = c["prefix-len"];
    if (c["range-ratio"] !== undefined) o.rangeRatio = c["range-ratio"];
    if (c.priority !== undefined) o.priority = c.priority;
    if (c.headers !== undefined) o.headers = c.headers;
    if (c.slo !== undefined) o.slo = c.slo;
    if (c.seed !== undefined) o.seed = c.seed;
    return o;
  });
}
