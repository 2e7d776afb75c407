// The summary table: per workload and figure, tbuild's median and peak RSS, each peer's
// median and the ratio tbuild/peer, and the verdict against the targets.

import { BUILDKIT_TARGETS, FIGURE_LABELS, FIGURES, MAX_RSS_MB, REMOTE_CACHE_OVER_COLD_MAX, STARTUP_ABOVE_NODE_MS, TOUCH_OVER_NOOP_MAX, type Figure } from "./figures.js";
import type { Sample } from "./results.js";
import { maxOf, median } from "./stats.js";

function fmt(x: number, digits = 2): string {
  return Number.isFinite(x) ? x.toFixed(digits) : "-";
}

function okSamples(samples: readonly Sample[], engine: string, workload: string, figure: Figure): Sample[] {
  return samples.filter((s) => s.engine === engine && s.workload === workload && s.figure === figure && s.ok);
}

function medianOf(samples: readonly Sample[], engine: string, workload: string, figure: Figure): { med: number; n: number } {
  const xs = okSamples(samples, engine, workload, figure).map((s) => s.seconds);
  return { med: median(xs), n: xs.length };
}

/** Markdown table (like ../shared/tools/peers/RESULTS.md) of every measured figure. */
export function summaryTable(samples: readonly Sample[], workloads: readonly string[], peers: readonly string[], runs: number): string {
  const head = ["workload", "figure", "tbuild s", "tbuild peak RSS MB"];
  for (const p of peers) head.push(`${p} s`, `tbuild/${p}`);
  head.push("target", "verdict");
  const rows: string[][] = [];
  for (const wl of workloads) {
    for (const fig of FIGURES) {
      const t = medianOf(samples, "tbuild", wl, fig);
      const peerMeds = peers.map((p) => medianOf(samples, p, wl, fig));
      if (t.n === 0 && peerMeds.every((m) => m.n === 0)) continue;
      const rss = maxOf(okSamples(samples, "tbuild", wl, fig).map((s) => s.maxRssKb)) / 1024;
      const withN = (m: { med: number; n: number }): string => (m.n === 0 ? "-" : `${fmt(m.med)}${m.n < runs ? ` (n=${m.n})` : ""}`);
      const row = [wl, FIGURE_LABELS[fig], withN(t), fmt(rss, 0)];
      const verdicts: string[] = [];
      const targets: string[] = [];
      peers.forEach((p, i) => {
        const m = peerMeds[i]!;
        const ratio = t.med / m.med;
        row.push(withN(m), m.n && t.n ? fmt(ratio) : "-");
        if (p === "buildah" && m.n && t.n && ratio >= 1) verdicts.push("slower than buildah");
        if (p === "buildkit") {
          const target = BUILDKIT_TARGETS.find((x) => x.figure === fig && x.workloads.includes(wl));
          if (target) {
            targets.push(`≤${target.maxVsBuildkit}× bk`);
            if (m.n && t.n && ratio > target.maxVsBuildkit) verdicts.push(`MISS (${fmt(ratio)}× bk)`);
          }
        }
      });
      if (fig === "touch_rebuild") {
        const noop = medianOf(samples, "tbuild", wl, "warm_noop").med;
        const r = t.med / noop;
        targets.push(`= no-op (${fmt(r)}×)`);
        if (r > TOUCH_OVER_NOOP_MAX) verdicts.push("touch > no-op");
      }
      if (fig === "remote_cache" && wl === "manylayers") {
        const r = t.med / medianOf(samples, "tbuild", wl, "cold_build").med;
        targets.push(`≤${REMOTE_CACHE_OVER_COLD_MAX}× cold (${fmt(r)}×)`);
        if (r > REMOTE_CACHE_OVER_COLD_MAX) verdicts.push("remote cache > 0.25× cold");
      }
      if (rss >= MAX_RSS_MB) verdicts.push(`RSS ≥ ${MAX_RSS_MB} MB`);
      row.push(targets.join(", ") || "-", t.n === 0 ? "-" : verdicts.length ? verdicts.join("; ") : "ok");
      rows.push(row);
    }
  }
  const lines = [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`];
  for (const r of rows) lines.push(`| ${r.join(" | ")} |`);
  return lines.join("\n");
}

/** Medians of tbuild's build phases (ms): where a build's wall time goes. */
export function phasesTable(samples: readonly Sample[], workloads: readonly string[], nodeStartMs = Number.NaN): string {
  const lines = [
    `Start-up is spawn → first event (build-start); \`node -e 0\` spawned the same way in this run: ${fmt(nodeStartMs, 0)} ms (median), so the target (≤ ${STARTUP_ABOVE_NODE_MS} ms above it) is ≤ ${fmt(nodeStartMs + STARTUP_ABOVE_NODE_MS, 0)} ms.`,
    "",
    "| workload | figure | start-up ms | above node -e 0 | solve ms | exit ms | slowest step (median ms) |",
    "|---|---|---|---|---|---|---|",
  ];
  for (const wl of workloads) {
    for (const fig of FIGURES) {
      const ps = samples.filter((s) => s.engine === "tbuild" && s.workload === wl && s.figure === fig && s.phases).map((s) => s.phases!);
      if (ps.length === 0) continue;
      const slow = ps[0]!.slowest;
      const slowMs = median(ps.map((p) => p.slowest?.ms ?? Number.NaN));
      const startup = median(ps.map((p) => p.startupMs));
      lines.push(
        `| ${wl} | ${FIGURE_LABELS[fig]} | ${fmt(startup, 0)} | ${fmt(startup - nodeStartMs, 0)} | ${fmt(median(ps.map((p) => p.solveMs)), 0)} | ${fmt(median(ps.map((p) => p.exitMs)), 0)} | ${slow ? `${fmt(slowMs, 0)} ${slow.instruction.slice(0, 40).replace(/\|/g, "\\|")}` : "-"} |`,
      );
    }
  }
  return lines.join("\n");
}
