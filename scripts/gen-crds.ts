// Writes deploy/crds/*.yaml from the zod schemas in src/api (src/api/crd/definitions.ts) and removes
// files there that no definition produces. Usage: npm run gen:crds
import { readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { crdFiles } from "../src/api/crd/definitions.ts";

const DIR = join(import.meta.dirname, "..", "deploy", "crds");
const files = crdFiles();
for (const { fileName, text } of files) writeFileSync(join(DIR, fileName), text);
for (const name of readdirSync(DIR)) {
  if (name.endsWith(".yaml") && !files.some((f) => f.fileName === name)) rmSync(join(DIR, name));
}
console.log(`wrote ${files.length} CRDs to deploy/crds/: ${files.map((f) => f.fileName).join(", ")}`);
