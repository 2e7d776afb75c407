// The measured figures, in table order, and the targets tbuild is held to.

export const FIGURES = ["cold_build", "warm_noop", "touch_rebuild", "change_rebuild", "export", "export_build_oci", "push", "remote_cache"] as const;
export type Figure = (typeof FIGURES)[number];

export const FIGURE_LABELS: Record<Figure, string> = {
  cold_build: "cold build",
  warm_noop: "no-op rebuild",
  touch_rebuild: "rebuild, 1 file touched",
  change_rebuild: "rebuild, 1 file changed",
  export: "export archive",
  export_build_oci: "build -o type=oci (cached)",
  push: "push (new repo)",
  remote_cache: "fresh store, remote cache",
};

/** Workloads measured with "fresh store, remote cache" (issue 14). */
export const REMOTE_CACHE_WORKLOADS: readonly string[] = ["bigcontext", "manylayers", "multistage"];
/** "fresh store, remote cache" on manylayers may cost at most this part of tbuild's own cold build. */
export const REMOTE_CACHE_OVER_COLD_MAX = 0.25;

/** Target: tbuild median / BuildKit median ≤ max (same invocation). */
export interface RatioTarget {
  workloads: readonly string[];
  figure: Figure;
  maxVsBuildkit: number;
}

export const BUILDKIT_TARGETS: readonly RatioTarget[] = [
  { workloads: ["small"], figure: "warm_noop", maxVsBuildkit: 2.0 },
  { workloads: ["bigcontext", "incremental"], figure: "warm_noop", maxVsBuildkit: 0.6 },
  { workloads: ["incremental"], figure: "change_rebuild", maxVsBuildkit: 0.8 },
  { workloads: ["bigcontext", "incremental"], figure: "cold_build", maxVsBuildkit: 0.8 },
  { workloads: ["manylayers"], figure: "cold_build", maxVsBuildkit: 1.0 },
  { workloads: ["multistage"], figure: "cold_build", maxVsBuildkit: 1.0 },
  { workloads: REMOTE_CACHE_WORKLOADS, figure: "remote_cache", maxVsBuildkit: 0.5 },
];

/** "touch = no-op": a touched-file rebuild may cost at most this much more than a no-op. */
export const TOUCH_OVER_NOOP_MAX = 1.15;
/** Every tbuild process must stay below this peak RSS. */
export const MAX_RSS_MB = 300;
/** Issue 16: start-up (spawn → first event) at most this many ms above `node -e 0` spawned the same way. */
export const STARTUP_ABOVE_NODE_MS = 60;
