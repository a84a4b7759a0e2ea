/**
 * The file source's reader: multi-document YAML (or JSON) from files and folders (recursively,
 * `*.yaml` / `*.yml` / `*.json`, sorted) to located objects, each able to name the line of any of
 * its fields. Syntax errors, alias bombs and over-deep nesting become ConfigIssues with file:line.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { type Document, isAlias, isMap, isScalar, isSeq, LineCounter, parseAllDocuments, visit } from "yaml";
import { ConfigError, type ConfigIssue } from "./config-error.ts";
import type { FieldPath } from "./field-issue.ts";
import type { LocatedObject } from "./origin.ts";

const MANIFEST_EXT = /\.(ya?ml|json)$/i;

/** Aliases one document may expand (the `yaml` library's default): more is an alias bomb. */
const MAX_ALIAS_COUNT = 100;

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
      issues.push(fileIssue(p, 0, (e as Error).message));
    }
  }
  return { files, issues };
}

/**
 * Every non-empty document of every file, in file order; throws ConfigError listing every syntax
 * problem of every file (all files are checked before it throws).
 */
export function readDocuments(paths: readonly string[]): LocatedObject[] {
  const { files, issues } = listManifestFiles(paths);
  const out: LocatedObject[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      issues.push(fileIssue(file, 0, (e as Error).message));
      continue;
    }
    const parsed = parseFile(file, text);
    issues.push(...parsed.issues);
    out.push(...parsed.objects);
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return out;
}

/** Parses one file's text (exported for tests); never throws. */
export function parseFile(file: string, text: string): { objects: LocatedObject[]; issues: ConfigIssue[] } {
  const objects: LocatedObject[] = [];
  const issues: ConfigIssue[] = [];
  const lines = new LineCounter();
  let docs: Document.Parsed[];
  try {
    const all = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false });
    docs = Array.isArray(all) ? all : [];
  } catch (e) {
    // The parser recurses on nesting: a hostile file can exhaust the stack.
    issues.push(fileIssue(file, 1, e instanceof RangeError ? "is nested too deeply to read" : String(e)));
    return { objects, issues };
  }
  for (const doc of docs) {
    if (doc.errors.length > 0) {
      for (const err of doc.errors)
        issues.push(fileIssue(file, lines.linePos(err.pos[0]).line, err.message.split("\n")[0]!));
      continue;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (e) {
      const line = firstAliasLine(doc, lines) ?? lineOfRange(doc.contents, lines) ?? 1;
      issues.push(
        fileIssue(
          file,
          line,
          e instanceof ReferenceError && /alias/i.test(e.message)
            ? `its aliases expand to too much data (more than ${MAX_ALIAS_COUNT} expansions): refusing a possible alias bomb`
            : e instanceof RangeError
              ? "is nested too deeply to read"
              : (e as Error).message,
        ),
      );
      continue;
    }
    if (value === null || value === undefined) continue;
    objects.push({ object: value, origin: { file, lineOf: (path) => lineOfPath(doc, lines, path) } });
  }
  return { objects, issues };
}

function fileIssue(file: string, line: number, reason: string): ConfigIssue {
  return { file, line, field: "", object: "", reason };
}

function lineOfRange(node: unknown, lines: LineCounter): number | undefined {
  const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
  return range ? lines.linePos(range[0]).line : undefined;
}

function firstAliasLine(doc: Document.Parsed, lines: LineCounter): number | undefined {
  let line: number | undefined;
  visit(doc, {
    Alias(_, node) {
      line = lineOfRange(node, lines);
      return visit.BREAK;
    },
  });
  return line;
}

/** The line of the key (or list item) at `path`, or of its nearest existing ancestor. */
function lineOfPath(doc: Document.Parsed, lines: LineCounter, path: FieldPath): number {
  let node: unknown = doc.contents;
  let line = lineOfRange(node, lines) ?? 1;
  for (const seg of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      line = lineOfRange(pair.key, lines) ?? line;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === "number" && seg < node.items.length) {
      node = node.items[seg];
      line = lineOfRange(node, lines) ?? line;
    } else break;
  }
  return line;
}
