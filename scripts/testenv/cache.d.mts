/** The testenv cache root (created on first use). */
export function cacheDir(): string;
/** Tool name -> absolute path, as recorded in <cache>/tools.json ({} when none). */
export function readTools(): Record<string, string>;
/** Replaces tools.json. */
export function writeTools(tools: Record<string, string>): void;
