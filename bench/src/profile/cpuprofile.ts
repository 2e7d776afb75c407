// Summaries of V8 .cpuprofile files (node --cpu-prof): self time by category (module
// loading, GC, idle, each tbuild package folder, each npm dependency, node internals) and
// by function, so a profile reads as "where the time goes".

import { readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { sourceMapFor } from "./source-map.js";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  file: string;
  /** Wall span of the profile (µs → ms). */
  spanMs: number;
  byCategory: [string, number][];
  byFunction: [string, number][];
}

/** Category of a call frame: where its code lives. */
export function categoryOf(fn: string, url: string): string {
  if (fn === "(garbage collector)") return "GC";
  if (fn === "(idle)") return "idle (waiting on I/O or children)";
  if (fn === "(program)") return "program (V8/native: compile, bootstrap)";
  if (url === "") return `native ${fn || "(anonymous)"}`;
  if (url.startsWith("node:internal/modules") || url.startsWith("node:internal/deps/cjs-module-lexer")) return "module loading";
  if (url.startsWith("node:")) {
    const parts = url.slice(5).split("/");
    return `node:${parts[0] === "internal" ? (parts[1] ?? "internal").replace(/\.js$/, "") : parts[0]!.replace(/\.js$/, "")}`;
  }
  const nm = url.lastIndexOf("/node_modules/");
  if (nm >= 0) {
    const rest = url.slice(nm + 14).split("/");
    return `npm ${rest[0]!.startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  const m = /\/packages\/([^/]+)\/(?:dist|src)\/(.+)$/.exec(url);
  if (m) {
    const [, pkg, rest] = m;
    const seg = rest!.split("/");
    return `${pkg}/${seg.length > 1 ? seg[0] : seg[0]!.replace(/\.js$/, "")}`;
  }
  return url.replace(/^file:\/\//, "");
}

/**
 * A frame of a bundled file (packages/cli/bundle) mapped back to its original file through
 * the bundle's source map, so categories still name packages; other frames unchanged.
 */
function originalFrame(n: ProfileNode): ProfileNode["callFrame"] {
  const f = n.callFrame;
  if (!f.url.includes("/bundle/")) return f;
  const src = sourceMapFor(f.url)?.sourceAt(f.lineNumber, f.columnNumber);
  return src ? { ...f, url: pathToFileURL(src).href } : f;
}

function frameName(n: ProfileNode): string {
  const { functionName, url, lineNumber } = originalFrame(n);
  // A mapped frame keeps the bundle's line number, which means nothing in the original file.
  const line = url === n.callFrame.url ? `:${lineNumber + 1}` : "";
  const where = url ? `${url.replace(/^file:\/\/.*\/packages\//, "").replace(/^file:\/\//, "")}${line}` : "";
  return `${functionName || "(anonymous)"}${where ? ` ${where}` : ""}`;
}

/** Self time per category and per function of one profile file. */
export function summarizeProfile(file: string, top = 12): ProfileSummary {
  const prof = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < prof.samples.length; i++) {
    const id = prof.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));
  }
  const cats = new Map<string, number>();
  const fns = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    if (!n || n.callFrame.functionName === "(root)") continue;
    const c = categoryOf(n.callFrame.functionName, originalFrame(n).url);
    cats.set(c, (cats.get(c) ?? 0) + us / 1000);
    const f = frameName(n);
    fns.set(f, (fns.get(f) ?? 0) + us / 1000);
  }
  const sorted = (m: Map<string, number>): [string, number][] => [...m].sort((a, b) => b[1] - a[1]).slice(0, top);
  return { file: path.basename(file), spanMs: (prof.endTime - prof.startTime) / 1000, byCategory: sorted(cats), byFunction: sorted(fns) };
}

/** Markdown-ish text of a summary. */
export function formatProfile(s: ProfileSummary): string {
  const lines = [`  profile ${s.file}: span ${s.spanMs.toFixed(0)} ms`, "    self time by category:"];
  for (const [c, ms] of s.byCategory) lines.push(`      ${ms.toFixed(1).padStart(8)} ms  ${c}`);
  lines.push("    self time by function:");
  for (const [f, ms] of s.byFunction) lines.push(`      ${ms.toFixed(1).padStart(8)} ms  ${f}`);
  return lines.join("\n");
}
