// Destroying a caller's stream with an error, so that it is marked failed (a store discards a
// temp file on 'error'/'close'), without turning that 'error' event into an uncaught exception
// when the caller listens only to our returned promise.
import type { Stream } from "node:stream";

export function destroyWithError(stream: Stream & { destroy(err?: Error): unknown; destroyed?: boolean }, err: unknown): void {
  if (stream.destroyed) return;
  stream.on("error", () => {});
  stream.destroy(err instanceof Error ? err : new Error(String(err)));
}
