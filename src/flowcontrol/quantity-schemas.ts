/**
 * zod schemas for the flow-control config's scalars, over the parsers in quantity.ts: the parser's
 * message becomes the field's issue.
 */
import { z } from "zod";
import { parseDuration, parseQuantity } from "./quantity.ts";

/** Runs a throwing parser inside a zod transform; its Error message becomes the issue. */
function parsedWith<I, O>(parse: (v: I) => O) {
  return (v: I, ctx: z.core.$RefinementCtx<I>): O => {
    try {
      return parse(v);
    } catch (e) {
      ctx.addIssue({ code: "custom", message: (e as Error).message });
      return z.NEVER;
    }
  };
}

/** A Kubernetes quantity (`1000`, `512Mi`, `1G`) as a whole number. */
export const quantitySchema = z
  .union([z.number(), z.string()], { error: "expected a number or a quantity such as 512Mi" })
  .transform(parsedWith(parseQuantity));

/** A Go duration (`30s`, `500ms`) in ms; a bare number other than 0 is refused (which unit?). */
export const durationSchema = z
  .union([z.string(), z.number()], { error: "expected a duration such as 30s or 500ms" })
  .transform(
    parsedWith((v: string | number) => {
      if (typeof v === "string") return parseDuration(v);
      if (v !== 0) throw new Error(`a duration needs a unit: "${v}s" or "${v}ms", not ${v}`);
      return 0;
    }),
  );

/** A Go duration, or a number of milliseconds (the detectors' thresholds), in ms. */
export const durationMsSchema = z
  .union([z.number().nonnegative(), z.string()])
  .transform(parsedWith((v: number | string) => (typeof v === "number" ? v : parseDuration(v))));
