// npm run bench:cache — context hashing and cache lookup figures.
// Generates a 20,000-file / ~200 MB context on /dev/shm, then measures a hash without
// a stat cache (cold), with it (warm), after changing one file, and the mean cost of
// cache index lookups with a cold and a hot in-memory LRU.
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { hashContext } from "../context/context-index.js";
import { Store } from "../store/store.js";

const FILES = Number(process.env.BENCH_FILES ?? 20_000);
const TOTAL_BYTES = Number(process.env.BENCH_BYTES ?? 200 * 1024 * 1024);
const LOOKUPS = Number(process.env.BENCH_LOOKUPS ?? 10_000);

function generate(dir: string): number {
  // 20 big files carry a quarter of the bytes; the rest are small source-like files.
  const big = 20;
  const bigSize = Math.floor(TOTAL_BYTES / 4 / big);
  const smallAvg = Math.floor((TOTAL_BYTES - big * bigSize) / (FILES - big));
  const pool = randomBytes(bigSize + 2 * smallAvg);
  let total = 0;
  for (let i = 0; i < FILES; i++) {
    const d = path.join(dir, `pkg${i % 40}`, `mod${i % 400}`);
    if (i < 400) mkdirSync(d, { recursive: true });
    const size = i < big ? bigSize : 1 + ((i * 7919) % (2 * smallAvg));
    const start = (i * 104729) % (pool.length - size);
    const data = pool.subarray(start, start + size);
    data[0] = i & 0xff; // distinct contents
    writeFileSync(path.join(d, `file${i}.dat`), data);
    total += size;
  }
  return total;
}

/** Wall time plus the CPU time of this process (less sensitive to other load on the machine). */
async function timeHash(ctx: string, statCache: string | false): Promise<{ ms: number; cpuMs: number; hashed: number; hits: number; digest: string }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const idx = await hashContext(ctx, { statCache });
  const digest = await idx.digest(["."]);
  await idx.save();
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { ms, cpuMs: (c.user + c.system) / 1000, hashed: idx.stats.filesHashed, hits: idx.stats.cacheHits, digest };
}

async function lookups(root: string): Promise<{ cold: number; hot: number }> {
  const store = await Store.open(root, { lruSize: LOOKUPS * 2 });
  const keys: string[] = [];
  const blob = await store.putBlob("layer");
  for (let i = 0; i < LOOKUPS; i++) {
    const key = `sha256:${i.toString(16).padStart(64, "0")}`;
    keys.push(key);
    await store.record(key, { value: { diffID: blob.digest, step: i, config: { Env: ["PATH=/usr/bin"], Cmd: ["sh"] } }, refs: { blobs: [blob.digest] } });
  }
  await store.close();
  const fresh = await Store.open(root, { lruSize: LOOKUPS * 2 });
  let t = performance.now();
  for (const k of keys) if (!(await fresh.lookup(k))) throw new Error("miss");
  const cold = ((performance.now() - t) * 1000) / keys.length;
  t = performance.now();
  for (let r = 0; r < 5; r++) for (const k of keys) if (!(await fresh.lookup(k))) throw new Error("miss");
  const hot = ((performance.now() - t) * 1000) / (keys.length * 5);
  await fresh.close();
  return { cold, hot };
}

async function main(): Promise<void> {
  const base = existsSync("/dev/shm") ? "/dev/shm" : os.tmpdir();
  const work = mkdtempSync(path.join(base, "tbuild-bench-cache-"));
  try {
    const ctx = path.join(work, "ctx");
    const cacheFile = path.join(work, "stat-cache.json");
    const bytes = generate(ctx);
    console.log(`load average: ${os.loadavg().map((l) => l.toFixed(1)).join(" ")} on ${os.cpus().length} CPUs`);
    console.log(`context: ${FILES} files, ${(bytes / 1048576).toFixed(0)} MB in ${ctx}`);
    // Files written in the last few ms are "racily clean" and would be re-read once;
    // a real context is older than that.
    await new Promise((r) => setTimeout(r, 200));

    const cold = await timeHash(ctx, cacheFile);
    console.log(`context hash cold: ${cold.ms.toFixed(0)} ms (cpu ${cold.cpuMs.toFixed(0)} ms; ${cold.hashed} files read)`);
    const warm = await timeHash(ctx, cacheFile);
    if (warm.digest !== cold.digest) throw new Error("warm digest differs from cold");
    console.log(
      `context hash warm: ${warm.ms.toFixed(0)} ms (cpu ${warm.cpuMs.toFixed(0)} ms; ${warm.hashed} files read, ${warm.hits} from the stat cache; ${((100 * warm.ms) / cold.ms).toFixed(1)}% of cold)`,
    );
    writeFileSync(path.join(ctx, "pkg7", "mod7", "file7.dat"), "changed");
    await new Promise((r) => setTimeout(r, 100));
    const one = await timeHash(ctx, cacheFile);
    console.log(`context hash one file changed: ${one.ms.toFixed(0)} ms (cpu ${one.cpuMs.toFixed(0)} ms; ${one.hashed} file read)`);
    const noCache = await timeHash(ctx, false);
    if (noCache.digest !== one.digest) throw new Error("digest with and without stat cache differ");

    const store = path.join(work, "store");
    const l = await lookups(store);
    console.log(`cache lookup: ${l.cold.toFixed(1)} µs (cold LRU, one file read; mean of ${LOOKUPS})`);
    console.log(`cache lookup: ${l.hot.toFixed(2)} µs (hot LRU; mean of ${LOOKUPS * 5})`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
