/**
 * The one check of a configuration's EndpointPickerConfig documents, for the config loader: every
 * document's schema and declared plugins (any kind) and its scheduling profiles, then the
 * flow-control section that applies (the first document with `flowControl` or a top-level
 * `saturationDetector`), and every document's failure-policy sections (requestcontrol/failure-policy.ts). Paths are from each document's root.
 */
import { type FieldIssue, FieldIssueError, formatPath } from "../config/field-issue.ts";
import {
  flowControlDocument,
  flowControlSection,
  settingsFromSection,
} from "../flowcontrol/picker-config-section.ts";
import { failurePolicyIssues } from "../requestcontrol/failure-policy.ts";
import { endpointPickerConfigIssues } from "../scheduling/endpoint-picker-config.ts";

/** One problem, with the index of its document in the list given. */
export interface PickerConfigIssue {
  readonly doc: number;
  readonly issue: FieldIssue;
}

/** Every problem of `docs` (each with apiVersion and kind), in document order; empty when valid. */
export function pickerConfigIssues(docs: readonly Readonly<Record<string, unknown>>[]): PickerConfigIssue[] {
  const out: PickerConfigIssue[] = [];
  const seen = new Set<string>();
  const add = (doc: number, issue: FieldIssue): void => {
    // A declared plugin that flowControl references is checked by both passes: report it once.
    const key = `${doc}\n${formatPath(issue.path)}\n${issue.message}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ doc, issue });
  };
  docs.forEach((raw, doc) => {
    for (const issue of endpointPickerConfigIssues(raw)) add(doc, issue);
    for (const issue of failurePolicyIssues(raw)) add(doc, issue);
  });
  const records = docs.map((raw) => ({ raw }));
  const section = flowControlSection(records);
  if (section !== undefined) {
    try {
      settingsFromSection(section);
    } catch (e) {
      if (!(e instanceof FieldIssueError)) throw e;
      const doc = flowControlDocument(records);
      for (const issue of e.issues) add(doc, issue);
    }
  }
  return out;
}
