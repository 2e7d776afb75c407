// FileSync's DiffCopy against a real grpc-js client over a unix socket: the entry list in
// fsutil's order, the files asked for, FIN for FIN — and the list leaving in batches
// (sendBuffered), which a grpc-js upgrade could silently undo.
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { afterAll, describe, expect, it } from "vitest";
import { FileSync } from "../gen/github.com/moby/buildkit/session/filesync/filesync_pb.js";
import { Packet_PacketType as T, PacketSchema, type Packet } from "../gen/github.com/tonistiigi/fsutil/types/wire_pb.js";
import { grpcDefinition } from "../wire/grpc-service.js";
import { fileSyncHandlers } from "./file-sync.js";

const tmp = mkdtempSync(path.join(os.tmpdir(), "tbuild-filesync-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const N = 3000;

describe("FileSync DiffCopy", () => {
  it("sends every entry in order, most of them in batches, then the files asked for (large ones in chunks, interleaved, intact)", async () => {
    const dir = path.join(tmp, "ctx");
    mkdirSync(dir);
    const names = Array.from({ length: N }, (_, i) => `f${String(i).padStart(4, "0")}`);
    for (const [i, n] of names.entries()) writeFileSync(path.join(dir, n), String(i));
    // Two files of several chunks each, sent at the same time by two senders reusing their buffers.
    const big = [randomBytes(300_000), randomBytes(200_001)];
    big.forEach((b, i) => writeFileSync(path.join(dir, `zz-big-${i}`), b));

    const handlers = fileSyncHandlers(new Map([["context", { dir }]]));
    const batches: number[] = [];
    const server = new grpc.Server();
    server.addService(grpcDefinition(FileSync), {
      ...handlers,
      DiffCopy(call: grpc.ServerDuplexStream<Packet, Packet>) {
        handlers.DiffCopy(call);
        // sendBuffered has run (synchronously, first thing): count what goes through it.
        const s = call as unknown as { _writev?: (chunks: unknown[], cb: () => void) => void };
        const writev = s._writev;
        expect(writev).toBeTypeOf("function");
        s._writev = (chunks, cb) => {
          batches.push(chunks.length);
          writev!(chunks, cb);
        };
      },
    } as unknown as grpc.UntypedServiceImplementation);
    const sock = path.join(tmp, "fs.sock");
    await new Promise<void>((res, rej) => server.bindAsync(`unix:${sock}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? rej(e) : res())));
    const Client = grpc.makeGenericClientConstructor(grpcDefinition(FileSync), "FileSync");
    const client = new Client(`unix:${sock}`, grpc.credentials.createInsecure()) as unknown as {
      DiffCopy(md: grpc.Metadata): grpc.ClientDuplexStream<Packet, Packet>;
      close(): void;
    };
    try {
      const md = new grpc.Metadata();
      md.set("dir-name", "context");
      const stream = client.DiffCopy(md);
      const listed: string[] = [];
      const data = new Map<number, string>();
      const bigData = new Map<number, Buffer>();
      let listDone = false;
      await new Promise<void>((resolve, reject) => {
        stream.on("error", reject);
        stream.on("data", (p: Packet) => {
          if (p.type === T.PACKET_STAT && !listDone) {
            if (!p.stat) {
              listDone = true;
              // Ask for two files by id (their position in the list), then FIN.
              stream.write(create(PacketSchema, { type: T.PACKET_REQ, ID: 5 }));
              stream.write(create(PacketSchema, { type: T.PACKET_REQ, ID: N - 1 }));
              stream.write(create(PacketSchema, { type: T.PACKET_REQ, ID: N }));
              stream.write(create(PacketSchema, { type: T.PACKET_REQ, ID: N + 1 }));
              stream.write(create(PacketSchema, { type: T.PACKET_FIN }));
            } else listed.push(p.stat.path);
          } else if (p.type === T.PACKET_DATA) {
            if (p.ID >= N) bigData.set(p.ID, Buffer.concat([bigData.get(p.ID) ?? Buffer.alloc(0), p.data]));
            else data.set(p.ID, (data.get(p.ID) ?? "") + Buffer.from(p.data).toString());
          } else if (p.type === T.PACKET_FIN) {
            stream.end();
            resolve();
          }
        });
      });
      expect(listed).toEqual([...names, "zz-big-0", "zz-big-1"]);
      expect(Object.fromEntries(data)).toEqual({ 5: "5", [N - 1]: String(N - 1) });
      expect(bigData.get(N)?.equals(big[0]!)).toBe(true);
      expect(bigData.get(N + 1)?.equals(big[1]!)).toBe(true);
      // Without batching every message is its own write; with it, most go in groups.
      const batched = batches.filter((n) => n > 1).reduce((a, n) => a + n, 0);
      expect(batched).toBeGreaterThan(N / 2);
    } finally {
      client.close();
      server.forceShutdown();
    }
  });
});
