// The progress renderer contract: what every renderer does, what it draws on, the
// `--progress` modes. The choice of renderer is create-renderer.ts.

import type { BuildEvent } from "../builder-api.js";
import type { FinishedBuild } from "./state.js";

export type { FinishedBuild } from "./state.js";

/** Draws build progress from events. One renderer may serve several builds (compose). */
export interface ProgressRenderer {
  /** Feeds one event; `source` names the build when several share the renderer. */
  event(ev: BuildEvent, source?: string): void;
  /** Reports a finished build's result: draws its "exporting to image" block. */
  buildFinished(info: FinishedBuild): void;
  /** Stops live updates and draws the final state and the warnings. Idempotent. */
  close(): void;
}

export type ProgressMode = "auto" | "tty" | "plain" | "rawjson" | "quiet";
export const progressModes: readonly ProgressMode[] = ["auto", "tty", "plain", "rawjson", "quiet"];

/** A writable the renderers draw on: stderr in the CLI, a buffer in tests. */
export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
  rows?: number;
}

export interface RendererOptions {
  env?: NodeJS.ProcessEnv;
  /** Clock for live durations (tests pass a fake one). */
  now?: () => number;
  /** Redraw period of the TTY view in ms; 0 disables the timer (tests draw explicitly). */
  refreshMs?: number;
}
