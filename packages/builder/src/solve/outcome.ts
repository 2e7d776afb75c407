// The one outcome of a build: the error `result` rejects with, and what the final
// `build-error` event says about it.
import type { BuildErrorInfo, BuildOptions, StepRef } from "../api-types.js";
import { BuildAbortedError } from "./errors.js";

/**
 * Once the caller has cancelled, any failure that follows (a killed RUN, an interrupted push)
 * is the cancellation: reported as BuildAbortedError with the signal's reason as `cause`.
 */
export function finalError(opts: BuildOptions, e: unknown): unknown {
  const signal = opts.signal;
  if (signal?.aborted && !(e instanceof BuildAbortedError)) return new BuildAbortedError(signal.reason);
  return e;
}

/** The serialisable part of an error, for the `build-error` event. */
export function errorInfo(e: unknown): BuildErrorInfo {
  if (!(e instanceof Error)) return { name: "Error", message: String(e) };
  const info: BuildErrorInfo = { name: e.name, message: e.message };
  const code = (e as { code?: unknown }).code;
  if (typeof code === "string") info.code = code;
  const step = (e as { step?: StepRef }).step;
  if (step && typeof step.id === "string") info.step = step;
  return info;
}
