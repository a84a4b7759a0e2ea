/** "Did you mean" for field, kind and annotation names (Levenshtein distance, from `leven`). */
import { closestMatch } from "leven";

/**
 * The candidate closest to `name`, when it is near enough to be a typo: at most 1 edit for names
 * up to 4 characters, 2 up to 8, then 3; compared case-insensitively. Undefined when none is.
 */
export function closestName(name: string, candidates: readonly string[]): string | undefined {
  if (candidates.length === 0) return undefined;
  const lower = name.toLowerCase();
  const byLower = new Map(candidates.map((c) => [c.toLowerCase(), c]));
  if (byLower.has(lower) && byLower.get(lower) !== name) return byLower.get(lower);
  const maxDistance = name.length <= 4 ? 1 : name.length <= 8 ? 2 : 3;
  const match = closestMatch(lower, [...byLower.keys()], { maxDistance });
  return match === undefined || match === lower ? undefined : byLower.get(match);
}
