// The FileSend service: where an exporter's result comes back to the client (BuildKit's
// client/solve.go offers it for the local, tar, oci and docker exporters). The daemon calls
// FileSend.DiffCopy and either streams one tar (BytesMessage chunks: tar, oci, docker) or,
// for the local exporter, runs fsutil's *send* protocol over the same method — its messages
// are then fsutil Packets (fsutil receive.go is the other side, written here): STAT per
// entry, an empty STAT at the end, a REQ from us for each regular file, DATA until an empty
// DATA, FIN both ways.
import { closeSync, mkdirSync, openSync, symlinkSync, linkSync, writeSync, lchownSync, chmodSync, lutimesSync, createWriteStream } from "node:fs";
import path from "node:path";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type grpc from "@grpc/grpc-js";
import { failStream } from "../wire/grpc-service.js";
import { chmodBits } from "./go-file-mode.js";
import { Packet_PacketType as T, PacketSchema, type Packet } from "../gen/github.com/tonistiigi/fsutil/types/wire_pb.js";
import type { Stat } from "../gen/github.com/tonistiigi/fsutil/types/stat_pb.js";
import { BytesMessageSchema } from "../gen/github.com/moby/buildkit/session/filesync/filesync_pb.js";

/** Where an export lands: a directory (local exporter) or one file (tar, oci, docker). */
export type ReceiveTarget = { kind: "dir"; dest: string } | { kind: "file"; dest: string };

export interface Receiver {
  target: ReceiveTarget;
  /** Settles when the export has been written completely (or failed). */
  done(): Promise<void>;
}

/** The raw service definition: its message type depends on the exporter, so bytes pass through. */
export const fileSendDefinition = {
  DiffCopy: {
    path: "/moby.filesync.v1.FileSend/DiffCopy",
    requestStream: true,
    responseStream: true,
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (b: Buffer) => b,
    responseDeserialize: (b: Buffer) => b,
  },
} as const;

export function makeReceiver(target: ReceiveTarget) {
  let settle!: { resolve: () => void; reject: (e: Error) => void };
  const finished = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  finished.catch(() => {});
  let called = false;
  const handlers = {
    DiffCopy(call: grpc.ServerDuplexStream<Buffer, Buffer>) {
      called = true;
      const work = target.kind === "file" ? receiveFile(call, target.dest) : receiveDir(call, target.dest);
      work.then(settle.resolve, (e: Error) => {
        settle.reject(e);
        failStream(call, e);
      });
    },
  };
  const receiver: Receiver = { target, done: () => (called ? finished : Promise.resolve()) };
  return { handlers, receiver };
}

function receiveFile(call: grpc.ServerDuplexStream<Buffer, Buffer>, dest: string): Promise<void> {
  return new Promise((resolve, reject) => {
    mkdirSync(path.dirname(path.resolve(dest)), { recursive: true });
    const out = createWriteStream(dest);
    call.on("data", (b: Buffer) => {
      if (!out.write(fromBinary(BytesMessageSchema, b).data)) {
        call.pause();
        out.once("drain", () => call.resume());
      }
    });
    call.on("end", () => {
      out.end(() => resolve());
      call.end();
    });
    call.on("error", reject);
    out.on("error", reject);
  });
}

// Go's os.ModeType: dir, symlink, named pipe, socket, device, char device, irregular — not
// setuid, setgid or sticky, which a regular file may carry (a 4755 binary is still a file).
const GO_DIR = 2 ** 31, GO_SYMLINK = 2 ** 27, GO_TYPE = 2 ** 31 + 2 ** 27 + 2 ** 25 + 2 ** 24 + 2 ** 26 + 2 ** 21 + 2 ** 19;

function receiveDir(call: grpc.ServerDuplexStream<Buffer, Buffer>, dest: string): Promise<void> {
  const root = path.resolve(dest);
  mkdirSync(root, { recursive: true });
  const send = (p: Packet) => call.write(Buffer.from(toBinary(PacketSchema, p)));
  const stats: Stat[] = [];
  const open = new Map<number, number>();
  const pending = new Set<number>();
  let listed = false;
  const inside = (p: string) => {
    const abs = path.resolve(root, p);
    if (abs !== root && !abs.startsWith(root + path.sep)) throw new Error(`export: path ${p} leaves ${dest}`);
    return abs;
  };
  const finishMeta = () => {
    // Modes, owners and times last, deepest first, so that writing into a directory came before.
    for (const s of [...stats].reverse()) {
      const abs = inside(s.path);
      // Owner before mode: chown clears setuid and setgid. The mode keeps them and the sticky
      // bit, which Go's FileMode carries in its own high bits (fsutil's receiver: os.Chmod).
      try { lchownSync(abs, s.uid, s.gid); } catch { /* not root: keep our own ids */ }
      if ((s.mode & GO_SYMLINK) === 0) chmodSync(abs, chmodBits(s.mode));
      const t = Number(s.modTime) / 1e9;
      lutimesSync(abs, t, t);
    }
  };
  return new Promise((resolve, reject) => {
    const fail = (e: Error) => reject(e);
    const maybeDone = () => {
      if (listed && pending.size === 0) {
        send(create(PacketSchema, { type: T.PACKET_FIN }));
      }
    };
    let id = 0;
    call.on("data", (b: Buffer) => {
      try {
        const p = fromBinary(PacketSchema, b);
        switch (p.type) {
          case T.PACKET_STAT: {
            if (!p.stat) {
              listed = true;
              maybeDone();
              break;
            }
            const s = p.stat;
            const abs = inside(s.path);
            if (s.mode & GO_DIR) mkdirSync(abs, { recursive: true });
            else if (s.mode & GO_SYMLINK) symlinkSync(s.linkname, abs);
            else if ((s.mode & GO_TYPE) === 0 && s.linkname) linkSync(inside(s.linkname), abs);
            else if ((s.mode & GO_TYPE) === 0) {
              open.set(id, openSync(abs, "w", 0o600));
              pending.add(id);
              send(create(PacketSchema, { type: T.PACKET_REQ, ID: id }));
            }
            stats.push(s);
            id++;
            break;
          }
          case T.PACKET_DATA: {
            const fd = open.get(p.ID);
            if (fd === undefined) throw new Error(`export: data for unknown file id ${p.ID}`);
            if (p.data.length) writeSync(fd, p.data);
            else {
              closeSync(fd);
              open.delete(p.ID);
              pending.delete(p.ID);
              maybeDone();
            }
            break;
          }
          case T.PACKET_FIN:
            finishMeta();
            call.end();
            resolve();
            break;
          case T.PACKET_ERR:
            throw new Error(`export failed on the daemon: ${Buffer.from(p.data).toString()}`);
        }
      } catch (e) {
        fail(e as Error);
      }
    });
    call.on("error", fail);
  });
}

