// `npm run bench:oci`: layer throughput on a generated tree (20,000 files, ~200 MB, on
// /dev/shm), compared with `tar | gzip -6` on the same tree in the same run, plus the peak
// RSS of writing and unpacking a single 2 GB file (run in a child process so that the
// figure is that operation's own). Prints figures; asserts nothing.
import { execFileSync, spawnSync } from "node:child_process";
import { closeSync, createReadStream, createWriteStream, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync, type WriteStream } from "node:fs";
import { join } from "node:path";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { unpackLayer } from "../layer/unpack.js";
import { writeLayer } from "../layer/write-layer.js";

const FILES = 20_000;
const MB = 1024 * 1024;

/** The sink for throughput runs: a real file stream (as a store uses), discarding the bytes. */
const devNull = (): WriteStream => createWriteStream("/dev/null");

/** Deterministic pseudo-random generator (xorshift32). */
function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x / 0x100000000;
  };
}

/**
 * Makes a tree shaped like a distribution's /usr: many small text-ish files, some binaries.
 * Content mixes incompressible and repetitive bytes so gzip has real work (ratio ~2-3).
 */
function generateTree(root: string): number {
  const rand = rng(42);
  const noise = Buffer.alloc(4 * MB);
  for (let i = 0; i < noise.length; i += 4) noise.writeUInt32LE((rand() * 0x100000000) >>> 0, i);
  const words = Buffer.from("static int main(void) { return config_value(\"option\", DEFAULT); } /* comment */\n".repeat(4096));
  let total = 0;
  for (let i = 0; i < FILES; i++) {
    const dir = join(root, `d${i % 200}`, `s${i % 7}`);
    if (i < 1400) mkdirSync(dir, { recursive: true });
    const r = rand();
    // ~10 KB on average: 70% small (0.5–6.5 KB), 29% medium (4–30 KB), 1% large (0.1–0.5 MB).
    const size = r < 0.7 ? 512 + Math.floor(rand() * 6000) : r < 0.99 ? 4096 + Math.floor(rand() * 26000) : 100_000 + Math.floor(rand() * 400_000);
    const off = Math.floor(rand() * (noise.length - size));
    const buf = Buffer.allocUnsafe(size);
    // Half noise, half text: roughly what compiled code plus docs look like to gzip.
    const half = size >> 1;
    noise.copy(buf, 0, off, off + half);
    words.copy(buf, half, 0, Math.min(size - half, words.length));
    writeFileSync(join(dir, `f${i}.bin`), buf);
    total += size;
  }
  return total;
}

let lastCpu = 0;
/** Runs fn; returns its result and wall seconds, and records its CPU seconds (all threads) in lastCpu. */
async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const v = await fn();
  const c = process.cpuUsage(c0);
  lastCpu = (c.user + c.system) / 1e6;
  return [v, Number(process.hrtime.bigint() - t0) / 1e9];
}

const load = (): string => loadavg()[0]!.toFixed(2);

const mbps = (bytes: number, secs: number): string => (bytes / MB / secs).toFixed(0);
const rssMB = (): number => Math.round(process.resourceUsage().maxRSS / 1024);

async function bigFileChild(dir: string): Promise<void> {
  // Runs in its own process so that the peak RSS is this operation's own.
  const src = join(dir, "src");
  const layer = join(dir, "big.tar.gz");
  const [w, wt] = await timed(() => writeLayer({ kind: "dir", dir: src }, createWriteStream(layer), { compression: "gzip" }));
  const afterWrite = rssMB();
  const [, ut] = await timed(() => unpackLayer(createReadStream(layer), join(dir, "out"), { whiteouts: "overlay", expectedDigest: w.digest }));
  console.log(`2 GB single file: write+gzip ${mbps(w.size, wt)} MB/s, unpack ${mbps(w.size, ut)} MB/s; peak RSS after write ${afterWrite} MB, after unpack ${rssMB()} MB`);
}

async function main(): Promise<void> {
  if (process.argv[2] === "--big-child") return bigFileChild(process.argv[3]!);
  if (process.argv[2] === "--generate") {
    // For profiling: just make the tree.
    mkdirSync(process.argv[3]!, { recursive: true });
    console.log(`${(generateTree(process.argv[3]!) / MB).toFixed(0)} MB`);
    return;
  }
  const work = mkdtempSync("/dev/shm/tbuild-oci-bench-");
  try {
    const tree = join(work, "tree");
    mkdirSync(tree);
    const content = generateTree(tree);
    console.log(`tree: ${FILES} files, ${(content / MB).toFixed(0)} MB of content; ${cpus().length} CPUs, load average ${load()}`);

    // Warm-up (page cache, JIT), then the measured runs; the best of several is reported, as
    // other work on the machine only ever makes a run slower.
    let plain = await writeLayer({ kind: "dir", dir: tree }, devNull());
    let pt = Infinity;
    let ptCpu = 0;
    for (let i = 0; i < 3; i++) {
      const [r, t] = await timed(() => writeLayer({ kind: "dir", dir: tree }, devNull()));
      if (t < pt) [plain, pt, ptCpu] = [r, t, lastCpu];
    }
    console.log(`layer tar+sha256: ${mbps(plain.size, pt)} MB/s (${(plain.size / MB).toFixed(0)} MB tar in ${pt.toFixed(2)} s, ${ptCpu.toFixed(2)} s CPU in this process, plus getfattr; best of 3)`);

    const gzFile = join(work, "layer.tar.gz");
    let gz = plain as Awaited<ReturnType<typeof writeLayer>>;
    let gt = Infinity;
    let refSecs = Infinity;
    let refSize = 0;
    for (let i = 0; i < 2; i++) {
      const [r, t] = await timed(() => writeLayer({ kind: "dir", dir: tree }, createWriteStream(gzFile), { compression: "gzip" }));
      if (t < gt) [gz, gt] = [r, t];
      const t0 = process.hrtime.bigint();
      const ref = execFileSync("sh", ["-c", `tar -C '${tree}' -cf - . | gzip -6 | wc -c`], { encoding: "utf8" });
      refSecs = Math.min(refSecs, Number(process.hrtime.bigint() - t0) / 1e9);
      refSize = Number(ref.trim());
    }
    console.log(`layer tar+gzip: ${mbps(gz.size, gt)} MB/s (level 6, ${(gz.compressedSize! / MB).toFixed(1)} MB; best of 2)`);
    console.log(`tar|gzip -6: ${mbps(plain.size, refSecs)} MB/s (${(refSize / MB).toFixed(1)} MB; best of 2)`);
    console.log(`gzip ratio vs tar|gzip -6: time ${(gt / refSecs).toFixed(2)}x, size ${(gz.compressedSize! / refSize).toFixed(3)}x`);

    const [zs, zt] = await timed(() => writeLayer({ kind: "dir", dir: tree }, devNull(), { compression: "zstd" }));
    console.log(`layer tar+zstd: ${mbps(zs.size, zt)} MB/s (level 3, ${(zs.compressedSize! / MB).toFixed(1)} MB)`);

    const [, ut] = await timed(() => unpackLayer(createReadStream(gzFile), join(work, "unpacked"), { whiteouts: "overlay", expectedDigest: gz.digest }));
    console.log(`unpack: ${mbps(gz.size, ut)} MB/s (gzip layer, ${ut.toFixed(2)} s)`);
    console.log(`peak RSS: ${rssMB()} MB (load average now ${load()})`);
    rmSync(join(work, "unpacked"), { recursive: true, force: true });
    rmSync(tree, { recursive: true, force: true });

    // 2 GB single file, in a child process.
    const big = join(work, "big");
    mkdirSync(join(big, "src"), { recursive: true });
    // Compressible content (a counter every 512 bytes), so the run measures streaming, not deflate.
    const block = Buffer.alloc(MB);
    const fill = (n: number): void => {
      for (let i = 0; i < MB; i += 512) block.writeUInt32LE(n * 2048 + i / 512, i);
    };
    const fd = openSync(join(big, "src", "big.bin"), "w");
    for (let i = 0; i < 2048; i++) {
      fill(i);
      writeSync(fd, block);
    }
    closeSync(fd);
    const self = fileURLToPath(import.meta.url);
    const r = spawnSync(process.execPath, [self, "--big-child", big], { stdio: "inherit" });
    if (r.status !== 0) throw new Error("the 2 GB child run failed");
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
