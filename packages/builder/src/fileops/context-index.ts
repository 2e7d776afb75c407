// The build-context index that @tbuild/cache's hashContext produces. The file operations
// use `root`, `get()` and `entries()`; the rest serves cache keys.
export type { ContextIndex, ContextEntry } from "@tbuild/cache";
