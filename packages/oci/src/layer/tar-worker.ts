// Worker-thread side of tar-chunks.ts: runs a TarProducer and posts its chunks (transferring
// their memory, no copies) while the main thread hashes and compresses them. Flow control is
// by credits: one chunk per credit, so at most a few MiB are in flight.
import { parentPort } from "node:worker_threads";
import { OciError } from "../errors.js";
import type { LayerSource } from "./source.js";
import { recycleChunk, TarProducer, type ChunkPool, type TarProducerOptions } from "./tar-producer.js";

export type ToWorker =
  | { type: "job"; job: number; source: LayerSource; opts: TarProducerOptions; credits: number }
  | { type: "credit"; job: number }
  | { type: "cancel"; job: number }
  | { type: "recycle"; buf: ArrayBuffer };

export type FromWorker =
  | { type: "chunk"; job: number; buf: ArrayBuffer; len: number }
  | { type: "done"; job: number }
  | { type: "error"; job: number; oci: boolean; code?: string; message: string };

const port = parentPort!;
const pool: ChunkPool = [];
let current: { job: number; credits: number; cancelled: boolean; wake?: () => void } | undefined;

/** Structured cloning turns the Buffers of `xattrs` into plain Uint8Arrays; make them Buffers again. */
function withBuffers(source: LayerSource): LayerSource {
  if (!source.xattrs) return source;
  const xattrs = new Map<string, Map<string, Buffer>>();
  for (const [p, attrs] of source.xattrs) {
    xattrs.set(p, new Map([...attrs].map(([k, v]) => [k, Buffer.from(v.buffer, v.byteOffset, v.byteLength)])));
  }
  return { ...source, xattrs };
}

async function run(m: Extract<ToWorker, { type: "job" }>): Promise<void> {
  const state: { job: number; credits: number; cancelled: boolean; wake?: () => void } = { job: m.job, credits: m.credits, cancelled: false };
  current = state;
  let producer: TarProducer | undefined;
  try {
    producer = await TarProducer.create(withBuffers(m.source), m.opts, pool);
    for (;;) {
      while (state.credits === 0 && !state.cancelled) await new Promise<void>((r) => (state.wake = r));
      if (state.cancelled) break;
      const chunk = producer.next();
      if (!chunk) {
        port.postMessage({ type: "done", job: m.job } satisfies FromWorker);
        break;
      }
      state.credits--;
      const buf = chunk.buffer as ArrayBuffer;
      port.postMessage({ type: "chunk", job: m.job, buf, len: chunk.length } satisfies FromWorker, [buf]);
      await new Promise((r) => setImmediate(r)); // let credit and cancel messages in
    }
  } catch (err) {
    const e = err as Error & { code?: string };
    port.postMessage({ type: "error", job: m.job, oci: err instanceof OciError, code: e.code, message: e.message } satisfies FromWorker);
  } finally {
    producer?.close();
    if (current === state) current = undefined;
  }
}

port.on("message", (m: ToWorker) => {
  if (m.type === "job") void run(m);
  else if (m.type === "recycle") recycleChunk(pool, m.buf);
  else if (current && current.job === m.job) {
    if (m.type === "credit") current.credits++;
    else current.cancelled = true;
    current.wake?.();
  }
});
