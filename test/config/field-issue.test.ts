import assert from "node:assert/strict";
import { test } from "node:test";
import { FieldIssueError, formatPath, prefixIssues } from "../../src/config/field-issue.ts";

test("formatPath writes dotted keys and bracketed indices; the root is empty", () => {
  assert.equal(formatPath(["spec", "targetModels", 1, "weight"]), "spec.targetModels[1].weight");
  assert.equal(formatPath([0, "a"]), "[0].a");
  assert.equal(formatPath([]), "");
  assert.equal(formatPath(["a", Symbol("x"), "b"]), "a.b");
});

test("FieldIssueError lists every issue; prefixIssues re-roots them", () => {
  const e = new FieldIssueError(
    prefixIssues(
      ["flowControl"],
      [
        { path: ["priorityBands", 0, "maxBytes"], message: "must be positive" },
        { path: [], message: "bad" },
      ],
    ),
  );
  assert.equal(e.message, "flowControl.priorityBands[0].maxBytes: must be positive; flowControl: bad");
  assert.deepEqual(e.issues[1]?.path, ["flowControl"]);
});

test("keys that are not plain names are quoted, so a dotted annotation reads as one key", () => {
  assert.equal(
    formatPath(["metadata", "annotations", "a.example.com/x"]),
    'metadata.annotations["a.example.com/x"]',
  );
  assert.equal(formatPath(["labels", "app-name"]), "labels.app-name");
});
