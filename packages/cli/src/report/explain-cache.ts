// `tbuild build --explain-cache`: one row per step after the build — whether the cache
// served it, where a hit came from or why a miss missed (what differed from the closest
// earlier record), and the inputs its key was computed from, shortened to fit a line.
import type { StepCacheInfo, StepResult } from "../builder-api.js";
import { renderTable } from "../format/table.js";

const SOURCES: Record<NonNullable<StepCacheInfo["source"]>, string> = {
  local: "local store",
  import: "cache import",
  inline: "inline cache",
};

/** The table, or a one-line note when the build had no steps. */
export function explainCacheTable(steps: readonly StepResult[]): string {
  const rows = steps.map((s) => [shorten(s.step.label, 48), result(s), why(s), s.cache ? keyInputs(s.cache.inputs) : ""]);
  return renderTable(["STEP", "CACHE", "SOURCE / REASON", "KEY INPUTS"], rows);
}

/** FROM (index 0 and neither a hit's source nor a miss's reason: ONBUILD triggers have one). */
const isFrom = (s: StepResult) => s.step.index === 0 && !s.cache?.source && !s.cache?.reason;

function result(s: StepResult): string {
  if (isFrom(s)) return "base";
  if (s.status === "metadata") return "config";
  return s.status === "cached" ? "hit" : "miss";
}

function why(s: StepResult): string {
  if (s.cache?.source) return SOURCES[s.cache.source];
  if (s.cache?.reason) return s.cache.reason;
  if (isFrom(s)) return s.status === "ran" ? "pulled" : "at hand";
  return s.status === "metadata" ? "replayed (no cache entry)" : "";
}

/**
 * `name=value` for each input but the version and the instruction kind, values cut short;
 * unset ones (none, [], false) are left out so a row shows what the step actually uses.
 */
export function keyInputs(inputs: Record<string, unknown>): string {
  const out: string[] = [];
  for (const [name, value] of Object.entries(inputs)) {
    if (name === "v" || name === "op" || value === null || value === false || (Array.isArray(value) && value.length === 0)) continue;
    out.push(`${name}=${brief(value)}`);
  }
  return out.join(" ");
}

function brief(v: unknown): string {
  if (v === null || v === undefined) return "none";
  if (typeof v === "string") return shorten(v.replace(/^(sha256:[0-9a-f]{12})[0-9a-f]{52}$/, "$1"), 32) || '""';
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return v.length === 0 ? "[]" : v.every((e) => typeof e === "string") && v.join(",").length <= 32 ? `[${v.join(",")}]` : `[${v.length} items]`;
  const entries = Object.entries(v as Record<string, unknown>);
  return `{${entries.map(([k, x]) => `${k}=${brief(x)}`).join(",")}}`;
}

function shorten(s: string, max: number): string {
  const one = s.replace(/\s+/g, " ");
  return [...one].length <= max ? one : `${[...one].slice(0, max - 1).join("")}…`;
}
