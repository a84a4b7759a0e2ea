/**
 * Watches manifest files and folders by polling their stat signatures (mtime, size, inode, and the
 * list of files in folders). Polling survives editors that replace files and works everywhere.
 */
import { statSync } from "node:fs";
import { listManifestFiles } from "./read-documents.ts";

/** A string that changes when any file under `paths` changes, appears or goes away. */
export function pathsSignature(paths: readonly string[]): string {
  const { files } = listManifestFiles(paths);
  return files
    .map((f) => {
      try {
        const s = statSync(f);
        return `${f}:${s.mtimeMs}:${s.size}:${s.ino}`;
      } catch {
        return `${f}:missing`;
      }
    })
    .join("|");
}

/**
 * Calls `onChange` after the files under `paths` change (checked every `intervalMs`), compared
 * with `since` (a `pathsSignature` taken when they were read) or with their state now.
 */
export function watchPaths(
  paths: readonly string[],
  onChange: () => void,
  intervalMs: number,
  since: string = pathsSignature(paths),
): { close(): void } {
  let last = since;
  const timer = setInterval(() => {
    const now = pathsSignature(paths);
    if (now === last) return;
    last = now;
    onChange();
  }, intervalMs);
  timer.unref();
  return { close: () => clearInterval(timer) };
}
