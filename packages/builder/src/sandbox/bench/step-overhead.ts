// Per-step overhead of a RUN: prepare the rootfs + run `true` + take the diff, for each
// executor × snapshotter, on a growing stack (each step's diff becomes the next step's top
// layer, as in a Dockerfile of many RUN lines). Needs root and busybox-static. Prints figures.
//   node packages/builder/dist/sandbox/bench/step-overhead.js [steps]
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { CopySnapshotter } from "../../snapshot/copy-snapshotter.js";
import { OverlaySnapshotter } from "../../snapshot/overlay-snapshotter.js";
import type { Snapshotter } from "../../snapshot/types.js";
import { RuncExecutor } from "../runc-executor.js";
import type { Executor } from "../types.js";
import { UnshareExecutor } from "../unshare-executor.js";

function busyboxLayer(dir: string): void {
  const bb = execFileSync("sh", ["-c", "command -v busybox"]).toString().trim();
  for (const d of ["bin", "etc", "tmp", "proc", "dev", "sys"]) mkdirSync(`${dir}/${d}`, { recursive: true });
  copyFileSync(bb, `${dir}/bin/busybox`);
  chmodSync(`${dir}/bin/busybox`, 0o755);
  for (const a of ["sh", "true", "echo"]) symlinkSync("busybox", `${dir}/bin/${a}`);
  writeFileSync(`${dir}/etc/passwd`, "root:x:0:0:root:/root:/bin/sh\n");
  writeFileSync(`${dir}/etc/hosts`, "127.0.0.1 localhost\n");
  writeFileSync(`${dir}/etc/resolv.conf`, "");
  writeFileSync(`${dir}/etc/hostname`, "x\n");
}

interface Figures {
  prepare: number;
  run: number;
  diff: number;
  total: number;
  /** CPU time of this process and all its (reaped) descendants: less sensitive to a busy machine than wall time. */
  cpu: number;
}

/** CPU ms used so far by this process and its waited-for descendants (utime, stime, cutime, cstime). */
function cpuMs(): number {
  const f = readFileSync("/proc/self/stat", "utf8").split(") ")[1]!.split(" ");
  const ticks = [11, 12, 13, 14].reduce((a, i) => a + Number(f[i]), 0);
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

async function bench(ex: Executor, snap: Snapshotter, steps: number, root: string): Promise<Figures> {
  const store = mkdtempSync(`${root}/store-`);
  const base = `${store}/l0`;
  mkdirSync(base);
  busyboxLayer(base);
  const parents = [base];
  const sum: Figures = { prepare: 0, run: 0, diff: 0, total: 0, cpu: 0 };
  for (let i = 0; i <= steps; i++) {
    const scratch = mkdtempSync(`${store}/scratch-`);
    const c0 = cpuMs();
    const t0 = performance.now();
    const rootfs = await snap.prepare(parents, scratch);
    const t1 = performance.now();
    const { exitCode } = await ex.run({
      rootfs, args: ["/bin/true"], env: ["PATH=/bin"], cwd: "/", user: { uid: 0, gid: 0, additionalGids: [] },
      network: "default", mounts: [], stdout: () => {}, stderr: () => {},
    });
    if (exitCode !== 0) throw new Error(`step ${i} exited with ${exitCode}`);
    const t2 = performance.now();
    const diff = await snap.diff(rootfs, parents);
    const layer = `${store}/l${i + 1}`;
    renameSync(diff, layer);
    await snap.release(rootfs);
    const t3 = performance.now();
    const c1 = cpuMs();
    rmSync(scratch, { recursive: true, force: true });
    parents.unshift(layer);
    if (i === 0) continue; // warm-up: first use of the tools and caches
    sum.prepare += t1 - t0;
    sum.run += t2 - t1;
    sum.diff += t3 - t2;
    sum.total += t3 - t0;
    sum.cpu += c1 - c0;
  }
  rmSync(store, { recursive: true, force: true });
  for (const k of Object.keys(sum) as (keyof Figures)[]) sum[k] /= steps;
  return sum;
}

/** Mean cost of Node spawning /bin/true: the yardstick for the figures on a loaded machine. */
async function spawnBaseline(n: number): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < n; i++) await new Promise((r) => spawn("/bin/true", { stdio: "ignore" }).on("close", r));
  return (performance.now() - t) / n;
}

const steps = Number(process.argv[2] ?? 20);
const root = mkdtempSync("/dev/shm/tbuild-bench-");
try {
  console.log(`per-step overhead, mean of ${steps} steps (prepare + run \`true\` + diff), ms`);
  const c0 = cpuMs();
  const yard = await spawnBaseline(20);
  const yardCpu = (cpuMs() - c0) / 20;
  console.log(`(yardstick: Node spawning /bin/true takes ${yard.toFixed(1)} ms wall, ${yardCpu.toFixed(1)} ms cpu here; load average ${loadavg()[0]!.toFixed(2)})`);
  console.log("executor  snapshotter   prepare    run   diff   total    cpu");
  for (const [exName, ex] of [["unshare", UnshareExecutor.create()], ["runc", RuncExecutor.create()]] as const) {
    for (const [snName, snap] of [["overlay", new OverlaySnapshotter()], ["copy", new CopySnapshotter()]] as const) {
      const f = await bench(ex, snap, steps, root);
      const n = (x: number) => x.toFixed(1).padStart(7);
      console.log(`${exName.padEnd(9)} ${snName.padEnd(11)} ${n(f.prepare)}${n(f.run)}${n(f.diff)}${n(f.total)}${n(f.cpu)}`);
    }
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
