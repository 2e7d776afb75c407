// How steps are named on screen, following BuildKit: `[2/4] RUN make` for a
// single-stage build, `[builder 2/4] …` for a named stage, `[stage-1 2/4] …` for an
// unnamed one among several. BuildKit counts FROM as step 1, so N and M are one more
// than StepRef's FROM-is-0 index and FROM-excluded total.

import type { OutputSpec, StepRef } from "../builder-api.js";

/** The bracketed label and instruction of a step; `source` prefixes it (compose service). */
export function stepLabel(step: StepRef, stageCount: number, source?: string): string {
  const n = step.index + 1;
  const m = step.total + 1;
  const named = !/^\d+$/.test(step.stage);
  const stage = named ? step.stage : stageCount > 1 ? `stage-${step.stageIndex}` : "";
  const prefix = [source, step.platform, stage].filter((p) => p).join(" ");
  const counter = `${String(n).padStart(String(m).length)}/${m}`;
  return `[${prefix ? `${prefix} ` : ""}${counter}] ${oneLineInstruction(step.instruction)}`;
}

/** Collapses a multi-line instruction (continuations, heredocs) onto one line for display. */
export function oneLineInstruction(text: string): string {
  return text.replace(/[ \t]*(?:\\|`)?\r?\n\s*/g, " ").trim();
}

/** Formats a duration like BuildKit: seconds with one decimal. */
export function formatSeconds(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(1)}s`;
}

/** One line describing a finished export, as it appears under "exporting to image". */
export function describeExport(output: OutputSpec, digest: string): string {
  switch (output.type) {
    case "store": return `writing image ${digest} done`;
    case "oci": return `writing oci-archive ${output.dest} (manifest ${digest}) done`;
    case "docker": return `writing docker-archive ${output.dest} (image ${digest}) done`;
    case "oci-layout": return `writing OCI layout ${output.dest} (manifest ${digest}) done`;
    case "local": return `copying files to ${output.dest} done`;
    case "tar": return `sending tarball to ${output.dest} done`;
    case "registry": return `pushing ${output.name}@${digest} done`;
  }
}

/**
 * The title of the export block, in BuildKit's words for its exporter (exporter/{containerimage,oci,local,tar}/export.go):
 * the image exporter (store, registry) "exporting to image", oci and docker "exporting to
 * oci|docker image format", local "exporting to client directory", tar "exporting to client
 * tarball". BuildKit shows one block per exporter; tbuild shows one, titled "exporting to
 * image" when the outputs are of several kinds.
 */
export function exportTitle(types: readonly OutputSpec["type"][]): string {
  const kinds = new Set(types.map((t) => (t === "registry" ? "store" : t)));
  if (kinds.size !== 1) return "exporting to image";
  switch ([...kinds][0]!) {
    case "local": return "exporting to client directory";
    case "tar": return "exporting to client tarball";
    case "oci": return "exporting to oci image format";
    case "docker": return "exporting to docker image format";
    default: return "exporting to image";
  }
}
