// The tar bytes of a layer as an async iterable of chunks. Production runs in a small pool
// of worker threads (at most two, idle ones unref'd so they never keep the process alive),
// so that reading files overlaps hashing and compressing on the main thread; when no worker
// is available (all busy, or running from TypeScript sources as under vitest, where the
// compiled worker file does not exist) the same producer runs inline.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { OciError, type OciErrorCode } from "../errors.js";
import type { LayerSource } from "./source.js";
import { CHUNK_SIZE, recycleChunk, TarProducer, type ChunkPool, type TarProducerOptions } from "./tar-producer.js";
import type { FromWorker, ToWorker } from "./tar-worker.js";

const WORKER_URL = new URL("./tar-worker.js", import.meta.url);
const WORKER_AVAILABLE = WORKER_URL.protocol === "file:" && existsSync(fileURLToPath(WORKER_URL));
const MAX_WORKERS = 2;
const CREDITS = 8; // chunks in flight per job (8 MiB)

/** A layer tar as chunks; chunks whose memory nobody references any more may be handed back. */
export interface LayerTar extends AsyncIterable<Buffer> {
  /** Gives a chunk's memory back for reuse; only once nothing holds a reference to it. */
  recycle(chunk: Buffer): void;
}

const idle: Worker[] = [];
const inlinePool: ChunkPool = [];
let live = 0;
let nextJob = 1;

function acquire(): Worker | undefined {
  const w = idle.pop();
  if (w) {
    w.ref();
    return w;
  }
  if (!WORKER_AVAILABLE || live >= MAX_WORKERS) return undefined;
  live++;
  const worker = new Worker(WORKER_URL);
  worker.on("exit", () => {
    live--;
    const i = idle.indexOf(worker);
    if (i >= 0) idle.splice(i, 1);
  });
  worker.on("error", () => {}); // reported to the job that was running, if any
  return worker;
}

function release(w: Worker): void {
  w.unref();
  idle.push(w);
}

async function* inline(source: LayerSource, opts: TarProducerOptions): AsyncGenerator<Buffer> {
  const producer = await TarProducer.create(source, opts, inlinePool);
  try {
    for (let c = producer.next(); c; c = producer.next()) yield c;
  } finally {
    producer.close();
  }
}

function fromWorkerError(m: Extract<FromWorker, { type: "error" }>): Error {
  if (m.oci) return new OciError(m.code as OciErrorCode, m.message);
  return Object.assign(new Error(m.message), m.code ? { code: m.code } : {});
}

async function* fromWorker(worker: Worker, source: LayerSource, opts: TarProducerOptions): AsyncGenerator<Buffer> {
  const job = nextJob++;
  const queue: Buffer[] = [];
  let done = false;
  let failure: Error | undefined;
  let crashed = false;
  let wake: (() => void) | undefined;
  const onMessage = (m: FromWorker): void => {
    if (m.job !== job) return; // late messages of an earlier, cancelled job
    if (m.type === "chunk") queue.push(Buffer.from(m.buf, 0, m.len));
    else if (m.type === "done") done = true;
    else failure = fromWorkerError(m);
    wake?.();
  };
  const onError = (err: Error): void => {
    crashed = true;
    failure = new OciError("TOOL_FAILED", `the layer writer thread failed: ${err.message}`, { cause: err });
    wake?.();
  };
  const onExit = (): void => {
    crashed = true;
    failure ??= new OciError("TOOL_FAILED", "the layer writer thread exited unexpectedly.");
    wake?.();
  };
  worker.on("message", onMessage);
  worker.on("error", onError);
  worker.on("exit", onExit);
  worker.postMessage({ type: "job", job, source: { ...source }, opts: { ...opts }, credits: CREDITS } satisfies ToWorker);
  let finished = false;
  try {
    for (;;) {
      while (queue.length === 0 && !done && !failure) await new Promise<void>((r) => (wake = r));
      const chunk = queue.shift();
      if (chunk) {
        yield chunk;
        worker.postMessage({ type: "credit", job } satisfies ToWorker);
        continue;
      }
      if (failure) throw failure;
      if (done) break;
    }
    finished = true;
  } finally {
    worker.off("message", onMessage);
    worker.off("error", onError);
    worker.off("exit", onExit);
    if (!crashed) {
      if (!finished && !failure) worker.postMessage({ type: "cancel", job } satisfies ToWorker);
      release(worker);
    }
  }
}

/**
 * The layer tar for `source`, in chunks of up to 1 MiB; iterate it once. `inline` produces
 * it on this thread: for a layer known to be small, starting a worker costs more than the
 * overlap it buys.
 */
export function layerTar(source: LayerSource, opts: TarProducerOptions & { inline?: boolean } = {}): LayerTar {
  let worker: Worker | undefined;
  return {
    recycle(chunk) {
      if (!worker) return recycleChunk(inlinePool, chunk);
      // Transfer the memory back to the producing thread (no copy); only whole chunks.
      if (chunk.byteOffset === 0 && chunk.buffer.byteLength === CHUNK_SIZE) {
        const buf = chunk.buffer as ArrayBuffer;
        worker.postMessage({ type: "recycle", buf } satisfies ToWorker, [buf]);
      }
    },
    [Symbol.asyncIterator]() {
      worker = opts.inline ? undefined : acquire();
      return worker ? fromWorker(worker, source, opts) : inline(source, opts);
    },
  };
}
