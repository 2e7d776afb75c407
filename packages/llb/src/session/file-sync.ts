// The FileSync service a session offers: BuildKit asks for a local directory by name
// (gRPC metadata `dir-name`) and the client sends it with fsutil's protocol (fsutil send.go):
// one STAT packet per entry in walk order (regular files get ids by their position), an empty
// STAT to end the list, then DATA packets for each file the daemon REQuests (an empty DATA
// ends a file), and FIN for FIN. The list is filtered here, with tbuild's .dockerignore
// matcher, so excluded files never leave the machine.
import { closeSync, openSync, readSync } from "node:fs";
import path from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import type grpc from "@grpc/grpc-js";
import { failStream } from "../wire/grpc-service.js";
import { PatternMatcher, walkContext, type ContextEntry } from "@tbuild/cache";
import { Packet_PacketType as T, PacketSchema, type Packet } from "../gen/github.com/tonistiigi/fsutil/types/wire_pb.js";
import { StatSchema } from "../gen/github.com/tonistiigi/fsutil/types/stat_pb.js";
import { comparePaths } from "./fs-order.js";
import { goFileMode } from "./go-file-mode.js";

/** A directory the session serves under a name (`context`, `dockerfile`). */
export interface SyncedDir {
  dir: string;
  /** .dockerignore patterns, applied before anything is sent. */
  excludes?: string[];
  /** Only these relative paths (the Dockerfile directory serves one file). */
  only?: string[];
}

/** Counts of what one DiffCopy sent, for tests and progress. */
export interface TransferStats {
  entries: number;
  files: number;
  bytes: number;
}

const CHUNK = 32 << 10;
const BUDGET = 4 << 20;
const SENDERS = 4;

// Packets are copies of zero messages: create() walks the schema on every call (~90 ms of
// CPU for the 60,000 packets of a 20,000-file context); a spread of a zero message is the same message.
const ZERO_PACKET = create(PacketSchema);
const ZERO_STAT = create(StatSchema);
const packet = (fields: Partial<Packet>): Packet => ({ ...ZERO_PACKET, ...fields });


export function fileSyncHandlers(dirs: Map<string, SyncedDir>, onTransfer?: (name: string, s: TransferStats) => void) {
  return {
    DiffCopy(call: grpc.ServerDuplexStream<Packet, Packet>) {
      const name = String(call.metadata.get("dir-name")[0] ?? "");
      const d = dirs.get(name);
      if (!d) {
        failStream(call, Object.assign(new Error(`no access allowed to dir "${name}"`), { code: 7 }));
        return;
      }
      diffCopy(call, d).then(
        (s) => onTransfer?.(name, s),
        (e) => failStream(call, e as Error),
      );
    },
    TarStream(call: grpc.ServerDuplexStream<Packet, Packet>) {
      failStream(call, Object.assign(new Error("TarStream is not offered: use DiffCopy"), { code: 12 }));
    },
  };
}

async function listEntries(d: SyncedDir): Promise<ContextEntry[]> {
  const { entries } = await walkContext(path.resolve(d.dir), new PatternMatcher(d.excludes ?? []));
  let list = [...entries.values()];
  if (d.only) {
    const keep = new Set(d.only);
    list = list.filter((e) => keep.has(e.path));
  }
  return list.sort((a, b) => comparePaths(a.path, b.path));
}

/**
 * Lets the messages buffered in a grpc-js server stream go out together. Its Writable sends
 * one message per event-loop turn (it waits for each HTTP/2 write to complete before it
 * serialises the next), so a 20,000-entry list cost 20,000 writev calls and loop turns
 * (2.4 s against docker's 1.2 s for a no-op rebuild of a 20,000-file context). Given a
 * `_writev`, Node's Writable hands over everything buffered at once; sent in one turn, the
 * messages leave in a few HTTP/2 writes. It calls the stream's `call.sendMessage` (grpc-js's
 * ServerInterceptingCallInterface, synchronous up to the HTTP/2 write); a grpc-js without
 * that field keeps its one-by-one writes.
 */
export function sendBuffered(call: grpc.ServerDuplexStream<Packet, Packet>): void {
  type Inner = { sendMessage?: (message: unknown, done: () => void) => void };
  const inner = (call as unknown as { call?: Inner }).call;
  const sendMessage = inner?.sendMessage?.bind(inner);
  if (!sendMessage) return;
  (call as unknown as { _writev: (chunks: { chunk: unknown }[], cb: () => void) => void })._writev = (chunks, cb) => {
    let left = chunks.length;
    for (const { chunk } of chunks) sendMessage(chunk, () => --left === 0 && cb());
  };
}

async function diffCopy(call: grpc.ServerDuplexStream<Packet, Packet>, d: SyncedDir): Promise<TransferStats> {
  const stats: TransferStats = { entries: 0, files: 0, bytes: 0 };
  sendBuffered(call);
  // Backpressure is honoured per few MiB, not per packet: waiting for "drain" after each of
  // 20,000 small STAT packets costs a round trip through the connection each time.
  // It returns a promise only when the caller must wait: 60,000 awaited promises were
  // a visible share of a large context's CPU.
  // Each packet is encoded as it is sent (the codec passes encoded bytes through), so the
  // bytes of a file read into a sender's buffer are copied out before the next read: no
  // buffer per file (205 MB of allocations, and the collections they cost, for a large context).
  let unflushed = 0;
  const send = (p: Packet): Promise<void> | undefined => {
    const bytes = toBinary(PacketSchema, p);
    const ok = call.write(bytes as unknown as Packet);
    unflushed += bytes.length;
    if (ok || unflushed <= BUDGET) return undefined;
    unflushed = 0;
    return new Promise<void>((resolve) => call.once("drain", () => resolve()));
  };
  // Requests may come while the list is still being sent (the receiver asks as it reads);
  // they are answered one file at a time, in the order they come, once the list is out.
  const queue: number[] = [];
  let head = 0; // queue.shift() is O(n): 20,000 requests would cost seconds
  const waiters: (() => void)[] = [];
  const wake = () => {
    for (const w of waiters.splice(0)) w();
  };
  let finished = false;
  let failure: Error | undefined;
  call.on("data", (p: Packet) => {
    if (p.type === T.PACKET_REQ) queue.push(p.ID);
    else if (p.type === T.PACKET_FIN) finished = true;
    else if (p.type === T.PACKET_ERR) failure = new Error(`error from receiver: ${Buffer.from(p.data).toString()}`);
    wake();
  });
  call.on("end", () => { finished = true; wake(); });
  call.on("error", (e: Error) => { failure = e; wake(); });
  const files = new Map<number, string>();
  const entries = await listEntries(d);
  const seenInodes = new Map<string, string>();
  let id = 0;
  for (const e of entries) {
    const stat = { ...ZERO_STAT, xattrs: {}, path: e.path, mode: goFileMode(e.mode), uid: e.uid, gid: e.gid, modTime: e.mtimeNs };
    if (e.type === "file") {
      // A second name of a hard-linked file is sent as a link to the first (fsutil stat_unix.go).
      const inode = `${e.dev}:${e.ino}`;
      const first = seenInodes.get(inode);
      if (first !== undefined) stat.linkname = first;
      else {
        seenInodes.set(inode, e.path);
        stat.size = BigInt(e.size);
      }
      files.set(id, e.path);
    } else if (e.type === "symlink") {
      stat.linkname = e.linkTarget ?? "";
      stat.size = BigInt(Buffer.byteLength(stat.linkname));
    }
    const full = send(packet({ type: T.PACKET_STAT, stat }));
    if (full) await full;
    stats.entries++;
    id++;
  }
  await send(packet({ type: T.PACKET_STAT }));

  // A file in CHUNK-sized reads into the sender's own buffer (synchronous: for the small
  // files most of a context holds, a stream or a thread-pool read per file costs more than
  // the read), each chunk encoded and sent before the next read reuses the buffer.
  const sendFile = async (fileId: number, buf: Buffer) => {
    const rel = files.get(fileId);
    if (rel === undefined) throw new Error(`invalid file id ${fileId}`);
    files.delete(fileId);
    const fd = openSync(path.join(d.dir, rel), "r");
    try {
      for (;;) {
        const n = readSync(fd, buf, 0, CHUNK, null);
        if (n === 0) break;
        stats.bytes += n;
        const full = send(packet({ type: T.PACKET_DATA, ID: fileId, data: buf.subarray(0, n) }));
        if (full) await full;
      }
    } finally {
      closeSync(fd);
    }
    const full = send(packet({ type: T.PACKET_DATA, ID: fileId }));
    if (full) await full;
    stats.files++;
  };
  // Four files in flight, as fsutil's sender: packets carry their file's id, so they may interleave.
  const worker = async () => {
    const buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      if (failure) throw failure;
      const next = head < queue.length ? queue[head++] : undefined;
      if (next !== undefined) await sendFile(next, buf);
      else if (finished) return;
      else await new Promise<void>((r) => waiters.push(r));
    }
  };
  await Promise.all(Array.from({ length: SENDERS }, worker));
  await send(packet({ type: T.PACKET_FIN }));
  call.end();
  return stats;
}
