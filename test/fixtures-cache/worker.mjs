// Child process for the @tbuild/cache end-to-end tests: runs store operations from
// a separate process against a shared store root, using the built package.
//   node worker.mjs hammer <root> <id> <n>   write shared and own blobs/snapshots/records/images
//   node worker.mjs churn <root> <seed>      write forever (killed with SIGKILL by the test)
//   node worker.mjs midwrite <root>          start a blob and a snapshot draft, print "mid", hang (killed)
//   node worker.mjs lease <root> <digest>    lease a blob, print "leased", hold until stdin closes
//   node worker.mjs builder <root> <n>       build-like loop racing a gc; prints violations
//   node worker.mjs gc <root> <ms>           prune --all in a loop for <ms>
//   node worker.mjs prune <root> <json>      one prune with the given options; prints the result
//   node worker.mjs lock <file>              take the exclusive lock, print "locked", hold it forever
import { createHash, randomBytes } from "node:crypto";
import { writeFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { lockFile, Store } from "../../packages/cache/dist/index.js";

const [mode, root, ...args] = process.argv.slice(2);
const sha = (s) => `sha256:${createHash("sha256").update(s).digest("hex")}`;

async function writeSnapshot(store, chainID, files) {
  const draft = await store.prepareSnapshot();
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(draft.path, name)), { recursive: true });
    writeFileSync(path.join(draft.path, name), content);
  }
  return store.commitSnapshot(draft, chainID);
}

async function hammer(id, n) {
  const store = await Store.open(root, { gracePeriodMs: 60_000 });
  const written = { blobs: [], snapshots: [], records: [] };
  for (let i = 0; i < n; i++) {
    // Same content in every worker (racing renames of one digest) and own content.
    for (const text of [`shared-${i}`.repeat(200 + i), `own-${id}-${i}`.repeat(100 + i)]) {
      const b = await store.putBlob(text);
      if (b.digest !== sha(text)) throw new Error("digest mismatch");
      written.blobs.push(b.digest);
    }
    for (const name of [`shared-snap-${i}`, `own-snap-${id}-${i}`]) {
      const res = await writeSnapshot(store, sha(name), { "etc/name": name, [`dir${i}/file`]: "x".repeat(i) });
      written.snapshots.push(res.info.chainID);
    }
    const blob = sha(`shared-${i}`.repeat(200 + i));
    await store.record(`shared-key-${i}`, { value: { i, blob }, refs: { blobs: [blob], snapshots: [sha(`shared-snap-${i}`)] } });
    await store.record(`own-key-${id}-${i}`, { value: { id, i }, refs: { blobs: [sha(`own-${id}-${i}`.repeat(100 + i))] } });
    written.records.push(`shared-key-${i}`, `own-key-${id}-${i}`);
    await store.putImage(`img-${i % 3}:latest`, { manifest: blob });
  }
  await store.close();
  process.stdout.write(JSON.stringify(written));
}

async function churn(seed) {
  const store = await Store.open(root, { gracePeriodMs: 0 });
  process.stdout.write("ready\n");
  for (let i = 0; ; i++) {
    const r = randomBytes(4).readUInt32LE(0);
    const size = (r % 5) === 0 ? 1_000_000 + (r % 1_000_000) : 1000 + (r % 100_000);
    const data = randomBytes(size);
    const b = await store.putBlob(data);
    const w = await store.blobWriter();
    for (let off = 0; off < data.length; off += 65536) w.write(data.subarray(off, off + 65536));
    await w.commit({ digest: b.digest, size });
    const files = {};
    for (let f = 0; f < 20; f++) files[`d${f % 4}/f${f}`] = randomBytes(r % 4096);
    const snap = await writeSnapshot(store, sha(`${seed}-${i}-${r}`), files);
    await store.record(`k-${seed}-${i}`, { value: { i, pad: "p".repeat(r % 3000) }, refs: { blobs: [b.digest], snapshots: [snap.info.chainID] } });
    await store.putLayer(b.digest, size);
    await store.putLayerVariant(b.digest, "gzip", b);
    if (i % 3 === 0) await store.putImage(`churn:${i % 5}`, { manifest: b.digest });
    if (i % 4 === 0) {
      const lease = await store.lease({ blobs: [b.digest] });
      await store.prune({ until: "1h" });
      await lease.release();
    }
  }
}

async function holdLease(digest) {
  const store = await Store.open(root);
  const lease = await store.lease({ blobs: [digest] });
  process.stdout.write(`leased ${lease.missing.blobs.length}\n`);
  process.stdin.resume();
  process.stdin.on("end", async () => {
    await lease.release();
    process.exit(0);
  });
}

/** A build-like loop: reuse cached results via acquire(), or produce and record them. */
async function builder(n) {
  const store = await Store.open(root, { gracePeriodMs: 0 });
  let violations = 0;
  let hits = 0;
  for (let i = 0; i < n; i++) {
    const key = `step-${i % 7}`;
    const got = await store.acquire(key);
    if (got) {
      hits++;
      const { blob } = got.record.value;
      // Under the lease the blob must exist and be intact, whatever the gc does.
      if (!(await store.verifyBlob(blob))) violations++;
      const snap = got.record.refs.snapshots[0];
      if (!(await store.hasSnapshot(snap))) violations++;
      await got.lease.release();
    } else {
      const lease = await store.lease();
      const text = `content-${i % 7}`.repeat(5000);
      const b = await store.putBlob(text);
      const snapID = sha(`snap-${i % 7}`);
      await lease.add({ blobs: [b.digest] });
      const res = await writeSnapshot(store, snapID, { f: text });
      const missing = await lease.add({ snapshots: [res.info.chainID] });
      if (missing.snapshots.length === 0 && missing.blobs.length === 0) {
        await store.record(key, { value: { blob: b.digest }, refs: { blobs: [b.digest], snapshots: [snapID] } });
      }
      await lease.release();
    }
  }
  await store.close();
  process.stdout.write(JSON.stringify({ violations, hits }));
}

async function gcLoop(ms) {
  const store = await Store.open(root, { gracePeriodMs: 0 });
  const end = Date.now() + ms;
  let runs = 0;
  let removed = 0;
  while (Date.now() < end) {
    const res = await store.prune({ all: true });
    removed += res.blobs.length + res.snapshots.length;
    runs++;
  }
  process.stdout.write(JSON.stringify({ runs, removed }));
}

async function pruneOnce(json) {
  const store = await Store.open(root, { gracePeriodMs: 0 });
  const res = await store.prune(JSON.parse(json));
  await store.close();
  process.stdout.write(JSON.stringify(res));
}

/** Half a blob written and a snapshot draft open when the test kills this process. */
async function midWrite() {
  const store = await Store.open(root, { gracePeriodMs: 0 });
  const w = await store.blobWriter();
  await new Promise((r) => w.write(randomBytes(256 * 1024), r));
  const draft = await store.prepareSnapshot();
  writeFileSync(path.join(draft.path, "half"), "x");
  process.stdout.write("mid\n");
  setInterval(() => {}, 1 << 30);
}

async function holdLock() {
  await lockFile(root, "exclusive");
  process.stdout.write("locked\n");
  setInterval(() => {}, 1 << 30);
}

const main = {
  prune: () => pruneOnce(args[0]),
  lock: () => holdLock(), midwrite: () => midWrite(), hammer: () => hammer(args[0], Number(args[1])), churn: () => churn(args[0]), lease: () => holdLease(args[0]), builder: () => builder(Number(args[0])), gc: () => gcLoop(Number(args[0])) }[mode];
if (!main) {
  process.stderr.write(`unknown mode ${mode}\n`);
  process.exit(2);
}
main().catch((e) => {
  process.stderr.write(`${e.stack ?? e}\n`);
  process.exit(1);
});
