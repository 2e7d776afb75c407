// The choice of renderer for `--progress`, apart from the contract the renderers implement.
import type { ProgressMode, ProgressRenderer, ProgressStream, RendererOptions } from "./renderer.js";

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
