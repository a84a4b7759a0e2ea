/** A pino logger whose records are collected in memory (for asserting warnings). */
import { Writable } from "node:stream";
import { type Logger, pino } from "pino";

export function captureLogger(): { logger: Logger; records: { level: number; msg: string }[] } {
  const records: { level: number; msg: string }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split("\n")) if (line) records.push(JSON.parse(line));
      cb();
    },
  });
  return { logger: pino({ level: "debug" }, stream), records };
}
