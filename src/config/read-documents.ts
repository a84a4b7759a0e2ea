/**
 * Reads multi-document YAML from files and folders (recursively, `*.yaml` / `*.yml` / `*.json`,
 * sorted), keeping each document's source so errors can name file and line.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { type Document, LineCounter, parseAllDocuments } from "yaml";
import { ConfigError, type ConfigIssue } from "./config-error.ts";

/** One parsed YAML document with what is needed to point at its lines. */
export interface SourceDocument {
  readonly file: string;
  readonly doc: Document.Parsed;
  readonly lines: LineCounter;
  /** The document as plain data (null for an empty document). */
  readonly value: unknown;
  /** Index over all documents read, in file order (used for "oldest wins" tie-breaks). */
  readonly order: number;
}

const MANIFEST_EXT = /\.(ya?ml|json)$/i;

/** Files named by the paths: a file as is, a folder's manifest files recursively. Missing → issue. */
export function listManifestFiles(paths: readonly string[]): { files: string[]; issues: ConfigIssue[] } {
  const files: string[] = [];
  const issues: ConfigIssue[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (MANIFEST_EXT.test(name)) files.push(p);
    }
  };
  for (const p of paths) {
    try {
      if (statSync(p).isDirectory()) walk(p);
      else files.push(p);
    } catch (e) {
      issues.push({ file: p, line: 0, field: "", object: "", reason: (e as Error).message });
    }
  }
  return { files, issues };
}

/** 1-based line of a character offset. */
export function lineOf(lines: LineCounter, offset: number): number {
  return lines.linePos(offset).line;
}

/** Parses every document of every file; YAML syntax errors become issues (all files are checked). */
export function readDocuments(paths: readonly string[]): SourceDocument[] {
  const { files, issues } = listManifestFiles(paths);
  const out: SourceDocument[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      issues.push({ file, line: 0, field: "", object: "", reason: (e as Error).message });
      continue;
    }
    const lines = new LineCounter();
    const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false });
    const list = Array.isArray(docs) ? docs : [];
    if (!Array.isArray(docs)) {
      issues.push({ file, line: 1, field: "", object: "", reason: "not a YAML stream" });
      continue;
    }
    for (const doc of list) {
      if (doc.errors.length > 0) {
        for (const err of doc.errors) {
          issues.push({
            file,
            line: lineOf(lines, err.pos[0]),
            field: "",
            object: "",
            reason: err.message.split("\n")[0]!,
          });
        }
        continue;
      }
      const value = doc.toJS({ maxAliasCount: 100 }) as unknown;
      if (value === null || value === undefined) continue;
      out.push({ file, doc, lines, value, order: out.length });
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return out;
}

/** Line of the node at `path` in the document, or of its nearest existing ancestor. */
export function lineAt(source: SourceDocument, path: readonly PropertyKey[]): number {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? source.doc.contents : source.doc.getIn(path.slice(0, n) as unknown[], true);
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    if (range) return lineOf(source.lines, range[0]);
  }
  return 1;
}

/** `spec.targetModels[1].weight` from a zod/yaml path. */
export function formatPath(path: readonly PropertyKey[]): string {
  let s = "";
  for (const p of path) s += typeof p === "number" ? `[${p}]` : s === "" ? String(p) : `.${String(p)}`;
  return s;
}
