/**
 * Watches manifest files and folders by polling their stat signatures (mtime, size, inode, and the
 * list of files in folders). Polling survives editors that replace files and works everywhere.
 */
import { statSync } from "node:fs";
import { listManifestFiles } from "./read-documents.ts";

function signature(paths: readonly string[]): string {
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

/** Calls `onChange` after the files under `paths` change (checked every `intervalMs`). */
export function watchPaths(
  paths: readonly string[],
  onChange: () => void,
  intervalMs: number,
): { close(): void } {
  let last = signature(paths);
  const timer = setInterval(() => {
    const now = signature(paths);
    if (now === last) return;
    last = now;
    onChange();
  }, intervalMs);
  timer.unref();
  return { close: () => clearInterval(timer) };
}
