/**
 * decision-tree-filter: runs `current`; on a non-empty result continues with nextOnSuccess (on that
 * result), on an empty one with nextOnFailure (on the original input); nextOnSuccessOrFailure is
 * the fallback for both. A leaf without a next step returns its own result. Same semantics as the
 * Inference Extension v0.3–v0.5 filter tree.
 */
import { z } from "zod";
import { FieldIssueError } from "../../../config/field-issue.ts";
import { definePlugin, type PluginContext } from "../../../plugins/registry.ts";
import type { Candidate, Filter, SchedulingRequest } from "../../types.ts";

/** One node of the tree. */
export interface DecisionNode {
  readonly current: Filter;
  readonly nextOnSuccess?: Filter;
  readonly nextOnFailure?: Filter;
  readonly nextOnSuccessOrFailure?: Filter;
}

export class DecisionTreeFilter implements Filter {
  readonly type: string;
  readonly name: string;
  readonly node: DecisionNode;
  constructor(node: DecisionNode, name = "decision-tree-filter", type = "decision-tree-filter") {
    this.node = node;
    this.name = name;
    this.type = type;
  }
  filter(request: SchedulingRequest, candidates: readonly Candidate[]): Candidate[] {
    const n = this.node;
    const out = n.current.filter(request, candidates);
    if (out.length > 0) {
      const next = n.nextOnSuccess ?? n.nextOnSuccessOrFailure;
      return next === undefined ? out : next.filter(request, out);
    }
    const next = n.nextOnFailure ?? n.nextOnSuccessOrFailure;
    return next === undefined ? out : next.filter(request, candidates);
  }
}

/** Shorthand for building trees in code. */
export function tree(current: Filter, next: Omit<DecisionNode, "current"> = {}): DecisionTreeFilter {
  return new DecisionTreeFilter({ current, ...next });
}

/** Config form of a node: a reference to a filter declared earlier, or a nested node. */
export type DecisionNodeSpec =
  | { pluginRef: string }
  | {
      current: DecisionNodeSpec;
      nextOnSuccess?: DecisionNodeSpec | undefined;
      nextOnFailure?: DecisionNodeSpec | undefined;
      nextOnSuccessOrFailure?: DecisionNodeSpec | undefined;
    };

const nodeSpec: z.ZodType<DecisionNodeSpec> = z.lazy(() =>
  z.union([
    z.strictObject({ pluginRef: z.string().min(1) }),
    z.strictObject({
      current: nodeSpec,
      nextOnSuccess: nodeSpec.optional(),
      nextOnFailure: nodeSpec.optional(),
      nextOnSuccessOrFailure: nodeSpec.optional(),
    }),
  ]),
);

function resolve(spec: DecisionNodeSpec, ctx: PluginContext, path: (string | number)[]): Filter {
  if ("pluginRef" in spec) {
    const declared = ctx.lookup(spec.pluginRef);
    // The registry built it for its kind, so a "filter" is a Filter.
    if (declared?.kind === "filter") return declared.plugin as Filter;
    const message =
      declared === undefined
        ? `no plugin named "${spec.pluginRef}" is declared before this one`
        : `"${spec.pluginRef}" is a ${declared.kind}, not a filter`;
    throw new FieldIssueError([{ path: [...path, "pluginRef"], message }]);
  }
  const at = (k: keyof typeof spec) => {
    const s = spec[k];
    return s === undefined || typeof s === "string" ? undefined : resolve(s, ctx, [...path, k]);
  };
  const node: { -readonly [K in keyof DecisionNode]: DecisionNode[K] } = {
    current: resolve(spec.current, ctx, [...path, "current"]),
  };
  const s = at("nextOnSuccess");
  const f = at("nextOnFailure");
  const sf = at("nextOnSuccessOrFailure");
  if (s !== undefined) node.nextOnSuccess = s;
  if (f !== undefined) node.nextOnFailure = f;
  if (sf !== undefined) node.nextOnSuccessOrFailure = sf;
  return new DecisionTreeFilter(node);
}

export const decisionTreeFilterPlugin = definePlugin({
  type: "decision-tree-filter",
  kind: "filter",
  description:
    "composes filters declared earlier into a tree (current, nextOnSuccess, nextOnFailure, nextOnSuccessOrFailure)",
  parameters: z.strictObject({
    current: nodeSpec,
    nextOnSuccess: nodeSpec.optional(),
    nextOnFailure: nodeSpec.optional(),
    nextOnSuccessOrFailure: nodeSpec.optional(),
  }),
  create: (name, p, ctx) => {
    const root = resolve(p, ctx, ["parameters"]);
    return root instanceof DecisionTreeFilter ? new DecisionTreeFilter(root.node, name) : root;
  },
});
