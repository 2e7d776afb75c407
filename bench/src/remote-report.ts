// The --remote table: per workload and build figure, tbuild's remote backend and docker
// build on the same daemon, their ratio and the 1.2× target of issue 17.
import type { Sample } from "./results.js";
import { median } from "./stats.js";

const BUILD_FIGURES = ["cold_build", "warm_noop", "touch_rebuild", "change_rebuild"];
export const REMOTE_OVER_DOCKER_MAX = 1.2;

export function remoteTable(samples: readonly Sample[], workloads: readonly string[]): string {
  const med = (engine: string, wl: string, fig: string) =>
    median(samples.filter((s) => s.engine === engine && s.workload === wl && s.figure === fig && s.ok).map((s) => s.seconds));
  const rows = ["| workload | figure | tbuild --builder s | docker build s | ratio | target ≤ 1.2× |", "|---|---|---|---|---|---|"];
  for (const wl of workloads) {
    for (const fig of BUILD_FIGURES) {
      const t = med("tbuild-remote", wl, fig);
      const d = med("buildkit", wl, fig);
      if (!Number.isFinite(t) && !Number.isFinite(d)) continue;
      const ratio = t / d;
      rows.push(`| ${wl} | ${fig} | ${t.toFixed(2)} | ${d.toFixed(2)} | ${Number.isFinite(ratio) ? ratio.toFixed(2) : "-"} | ${Number.isFinite(ratio) ? (ratio <= REMOTE_OVER_DOCKER_MAX ? "ok" : "MISSED") : "-"} |`);
    }
  }
  return rows.join("\n");
}
