// After `tsc`: copies every src/**/assets/ folder (files the code reads at run time, e.g. the
// dashboard page) to the same place under dist/, so the published package carries them.
import { cpSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";

const SRC = "src";
const DIST = "dist";

function walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const path = join(dir, entry.name);
    if (entry.name === "assets") cpSync(path, join(DIST, relative(SRC, path)), { recursive: true });
    else walk(path);
  }
}

walk(SRC);
