// The progress renderer contract and the choice of renderer for `--progress`.

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

/** Resolves `auto` to `tty` or `plain`, as BuildKit does: tty only on a real terminal. */
export function resolveMode(mode: ProgressMode, stream: ProgressStream, env: NodeJS.ProcessEnv = process.env): Exclude<ProgressMode, "auto"> {
  if (mode !== "auto") return mode;
  return stream.isTTY && env.TERM !== "dumb" ? "tty" : "plain";
}

/**
 * Creates the renderer for `mode`. The TTY renderer (and chalk with it) is loaded only
 * when used, to keep `tbuild` start-up lean for scripted builds.
 */
export async function createRenderer(mode: ProgressMode, stream: ProgressStream, opts: RendererOptions = {}): Promise<ProgressRenderer> {
  switch (resolveMode(mode, stream, opts.env)) {
    case "tty": {
      const { TtyRenderer } = await import("./tty.js");
      return new TtyRenderer(stream, opts);
    }
    case "plain": {
      const { PlainRenderer } = await import("./plain.js");
      return new PlainRenderer(stream);
    }
    case "rawjson": {
      const { RawJsonRenderer } = await import("./rawjson.js");
      return new RawJsonRenderer(stream);
    }
    case "quiet":
      return { event() {}, buildFinished() {}, close() {} };
  }
}
