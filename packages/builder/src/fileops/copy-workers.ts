// The per-file system calls of a big copy (open, copy_file_range via copyFileSync, chown,
// chmod, utimes) run synchronously in a few worker threads, in batches. Issued one by one
// through the async fs API, each call is a thread-pool round trip, and a 20,000-file COPY
// spent more time in those hand-offs than in the kernel (3.5 s against cp -a's 1.1 s); in
// batches on workers it stays close to cp -a, and the event loop stays free.
import * as nodeFs from "node:fs";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { FileOpError } from "./errors.js";

/** One entry for a worker to create; its parent directory exists and its path is free. */
export type FileTask =
  | {
      op: "copy";
      src: string;
      /** "dev:ino" the source must still have (build context: guards against swapped files). */
      expectInode?: string;
      dst: string;
      chown?: [number, number];
      chmod?: number;
      mtime: number;
      /** For messages. */
      name: string;
    }
  | { op: "symlink"; target: string; dst: string; chown?: [number, number]; mtime: number; name: string };

// Plain JavaScript run with `eval`, so it works from the TypeScript sources (vitest) and from
// the build output alike.
// The task runner is shared with the main thread, which runs a small copy itself (no worker
// start-up for a COPY of a few files).
const TASK_RUNNER_SOURCE = `
function run(t) {
  if (t.op === "copy") {
    if (t.expectInode !== undefined) {
      let fd;
      try {
        fd = fs.openSync(t.src, C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK);
      } catch (e) {
        e.changed = true;
        throw e;
      }
      try {
        const st = fs.fstatSync(fd);
        if (!st.isFile() || st.dev + ":" + st.ino !== t.expectInode) {
          const e = new Error("replaced while the build was reading it");
          e.changed = true;
          throw e;
        }
        fs.copyFileSync("/proc/self/fd/" + fd, t.dst, C.COPYFILE_EXCL);
      } finally {
        fs.closeSync(fd);
      }
    } else {
      fs.copyFileSync(t.src, t.dst, C.COPYFILE_EXCL);
    }
  } else {
    fs.symlinkSync(t.target, t.dst);
  }
  if (t.chown) fs.lchownSync(t.dst, t.chown[0], t.chown[1]);
  if (t.chmod !== undefined) fs.chmodSync(t.dst, t.chmod);
  fs.lutimesSync(t.dst, t.mtime, t.mtime);
}`;

const WORKER_SOURCE = `
const fs = require("node:fs");
const { parentPort } = require("node:worker_threads");
const C = fs.constants;
${TASK_RUNNER_SOURCE}
parentPort.on("message", ({ id, tasks }) => {
  for (let i = 0; i < tasks.length; i++) {
    try {
      run(tasks[i]);
    } catch (e) {
      parentPort.postMessage({ id, error: { index: i, code: e.code, changed: !!e.changed, message: e.message } });
      return;
    }
  }
  parentPort.postMessage({ id });
});
`;

interface Pending {
  tasks: FileTask[];
  resolve: () => void;
  reject: (e: unknown) => void;
}

interface Slot {
  worker: Worker;
  busy?: { id: number; job: Pending };
}

class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 0;

  constructor(private readonly size: number) {}

  private spawn(): Slot {
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.unref();
    const slot: Slot = { worker };
    worker.on("message", (msg: { id: number; error?: { index: number; code?: string; changed: boolean; message: string } }) => {
      const job = slot.busy?.job;
      slot.busy = undefined;
      worker.unref();
      if (job) {
        if (msg.error) job.reject(taskError(job.tasks[msg.error.index]!, msg.error));
        else job.resolve();
      }
      this.pump();
    });
    worker.on("error", (e) => {
      const job = slot.busy?.job;
      this.slots.splice(this.slots.indexOf(slot), 1);
      job?.reject(new FileOpError("TOOL", `a file copy worker failed: ${e.message}`, { cause: e }));
      this.pump();
    });
    this.slots.push(slot);
    return slot;
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => !s.busy);
      if (!slot && this.slots.length < this.size) slot = this.spawn();
      if (!slot) return;
      const job = this.queue.shift()!;
      const id = this.nextId++;
      slot.busy = { id, job };
      slot.worker.ref(); // keep the process alive while work is outstanding
      slot.worker.postMessage({ id, tasks: job.tasks });
    }
  }

  /** Runs one batch; rejects with a FileOpError naming the entry that failed. */
  run(tasks: FileTask[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ tasks, resolve, reject });
      this.pump();
    });
  }

  get parallelism(): number {
    return this.size;
  }
}

function taskError(task: FileTask, err: { code?: string; changed: boolean; message: string }): FileOpError {
  if (err.changed) {
    return new FileOpError("CHANGED", `${task.name} in the build context changed while the build was reading it (${err.code ?? err.message})`);
  }
  return new FileOpError("BAD_DEST", `copying ${task.name} to ${task.dst} failed: ${err.message}`);
}

let pool: WorkerPool | undefined;

/** The process-wide pool (workers start on first use and never keep the process alive idle). */
export function copyWorkers(): WorkerPool {
  pool ??= new WorkerPool(Math.max(2, Math.min(4, availableParallelism())));
  return pool;
}

/** Collects tasks into batches and keeps a bounded number of batches in flight. */
type TaskRunner = (t: FileTask) => void;
let inlineRunner: TaskRunner | undefined;

/** The worker's task runner, made on this thread from the same source. */
function runInline(tasks: FileTask[]): void {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the same code the workers eval
  inlineRunner ??= new Function("fs", "C", `${TASK_RUNNER_SOURCE}\nreturn run;`)(nodeFs, nodeFs.constants) as TaskRunner;
  for (const t of tasks) {
    try {
      inlineRunner(t);
    } catch (e) {
      const err = e as NodeJS.ErrnoException & { changed?: boolean };
      throw taskError(t, { code: err.code, changed: !!err.changed, message: err.message });
    }
  }
}

export class TaskBatcher {
  private dispatched = false;
  private batch: FileTask[] = [];
  private bytes = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;
  private get pool(): WorkerPool {
    return copyWorkers();
  }

  constructor(private readonly maxTasks = 128, private readonly maxBytes = 16 << 20) {}

  async add(task: FileTask, size: number): Promise<void> {
    this.throwIfFailed();
    this.batch.push(task);
    this.bytes += size;
    if (this.batch.length >= this.maxTasks || this.bytes >= this.maxBytes) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.batch.length === 0) return;
    const tasks = this.batch;
    this.batch = [];
    this.bytes = 0;
    this.dispatched = true;
    while (this.inFlight.size >= this.pool.parallelism * 2) await Promise.race(this.inFlight);
    const p: Promise<void> = this.pool
      .run(tasks)
      .catch((e: unknown) => {
        this.failure ??= { error: e };
      })
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }

  /** Sends what is left and waits for everything; throws the first failure. */
  async drain(): Promise<void> {
    if (!this.dispatched) {
      // Everything fit in one batch: cheaper here than starting a worker for it.
      const tasks = this.batch;
      this.batch = [];
      runInline(tasks);
      return;
    }
    await this.flush();
    while (this.inFlight.size > 0) await Promise.race(this.inFlight);
    this.throwIfFailed();
  }
}
