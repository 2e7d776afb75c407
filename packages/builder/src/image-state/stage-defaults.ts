// What a stage's image starts with beyond its base config, as BuildKit's dockerfile2llb
// sets it: every stage whose config has no PATH gets the default one appended to Env
// (convert.go, "make sure that PATH is always set"; not on Windows), and FROM scratch is
// image.go's emptyImage: WorkingDir "/" and that PATH. The stage's platform is what its
// RUN steps must run on: FROM --platform, else the target (scratch always the target).
import type { Platform } from "@tbuild/oci";
import { cloneState, emptyState, type ImageState } from "./state.js";

export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** The state with PATH in its Env (unchanged if it has one, or for Windows). */
export function withDefaultPath(state: ImageState): ImageState {
  const env = state.config.config?.Env ?? [];
  if (state.config.os === "windows" || env.some((e) => e.startsWith("PATH="))) return state;
  const n = cloneState(state);
  (n.config.config ??= {}).Env = [...env, `PATH=${DEFAULT_PATH}`];
  return n;
}

/** The state of `FROM scratch`. */
export function scratchState(target: Platform): ImageState {
  const s = emptyState(target, new Date(0).toISOString());
  s.config.config = { ...s.config.config, WorkingDir: "/" };
  s.platform = target;
  return s;
}

/** The state with the platform its RUN steps run on. */
export function withPlatform(state: ImageState, platform: Platform): ImageState {
  return { ...state, platform };
}
