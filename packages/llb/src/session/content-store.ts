// containerd's content API (containerd.services.content.v1.Content) served over the session,
// the way BuildKit's session/content attachable serves it: the daemon picks a store with the
// gRPC header `buildkit-attachable-store-id` and reads blobs (an `oci-layout://` named
// context, a `--cache-from type=local` import) or writes them (`--cache-to type=local`)
// through containerd's content proxy (core/content/proxy). Each store is an OCI layout
// directory: blobs at blobs/<algorithm>/<hex>, writes staged in the layout's `ingest/` and
// moved into blobs/ only when their digest and size check out.
//
// What the proxy does, and so what is answered: Info (size; NotFound for a missing blob),
// Read (a range, streamed in chunks), Write (a stream: STAT first, naming the ref and the
// expected digest — AlreadyExists when that blob is present, which the writer takes as done —
// then WRITE at offsets and one COMMIT with the size and digest), Status/ListStatuses/Abort of
// unfinished writes, Update (labels are not kept: the info is returned), List (the blobs),
// Delete (refused: a build never deletes the client's content). One stream writes a ref at a
// time; another is told Unavailable, which containerd's writer retries.
import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, readdir, rename, rm, rmdir, stat, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type grpc from "@grpc/grpc-js";
import { failStream } from "../wire/grpc-service.js";
import {
  InfoResponseSchema, InfoSchema, ListContentResponseSchema, ListStatusesResponseSchema, ReadContentResponseSchema, StatusResponseSchema, StatusSchema,
  UpdateResponseSchema, WriteAction, WriteContentResponseSchema,
  type AbortRequest, type DeleteContentRequest, type InfoRequest, type InfoResponse, type ListContentRequest, type ListContentResponse, type ListStatusesRequest,
  type ListStatusesResponse, type ReadContentRequest, type ReadContentResponse, type StatusRequest, type StatusResponse, type UpdateRequest, type UpdateResponse,
  type WriteContentRequest, type WriteContentResponse,
} from "../gen/github.com/containerd/containerd/api/services/content/v1/content_pb.js";
import type { EmptySchema } from "@bufbuild/protobuf/wkt";
import type { MessageShape } from "@bufbuild/protobuf";

type Empty = MessageShape<typeof EmptySchema>;

/** The header BuildKit names the store with (session/content/attachable.go, GRPCHeaderID). */
export const STORE_ID_HEADER = "buildkit-attachable-store-id";

/** Content stores by id: each an OCI layout directory; `writable` lets the daemon add blobs. */
export type ContentStores = Map<string, { dir: string; writable?: boolean }>;

const CHUNK = 1 << 20;
const DIGEST = /^(sha256|sha512):([a-f0-9]{64}|[a-f0-9]{128})$/;

type Status = { code: number; details: string };
const notFound = (details: string): Status => ({ code: 5, details });
const invalid = (details: string): Status => ({ code: 3, details });

interface Ingest {
  ref: string;
  file: string;
  fh: FileHandle;
  hash: Hash;
  offset: number;
  total: number;
  expected: string;
  started: Date;
  updated: Date;
}

export function contentHandlers(stores: ContentStores) {
  const ingests = new Map<string, Ingest>(); // key: store id + "\0" + ref
  // The Write stream that holds each ref: one writer per ref, as containerd's local store locks a ref.
  const owners = new Map<string, object>();

  const choose = (call: { metadata: grpc.Metadata }): { id: string; dir: string; writable: boolean } => {
    const id = call.metadata.get(STORE_ID_HEADER)[0];
    if (typeof id !== "string") throw invalid(`request lacks metadata ${STORE_ID_HEADER}`);
    const s = stores.get(id);
    if (!s) throw notFound(`unknown store ${id}`);
    return { id, dir: s.dir, writable: s.writable ?? false };
  };
  const blobPath = (dir: string, digest: string): string => {
    const m = DIGEST.exec(digest);
    if (!m) throw invalid(`invalid digest ${JSON.stringify(digest)}`);
    return path.join(dir, "blobs", m[1]!, m[2]!);
  };
  const info = async (dir: string, digest: string) => {
    const st = await stat(blobPath(dir, digest)).catch(() => undefined);
    if (!st?.isFile()) throw notFound(`content digest ${digest}: not found`);
    return create(InfoSchema, { digest, size: BigInt(st.size), createdAt: timestampFromDate(st.mtime), updatedAt: timestampFromDate(st.mtime) });
  };
  const unary = <T>(cb: grpc.sendUnaryData<T>, work: () => Promise<T>) => {
    work().then((r) => cb(null, r), (e: unknown) => cb(isStatus(e) ? e : { code: 13, details: (e as Error).message }));
  };
  const statusOf = (i: Ingest) => create(StatusSchema, { ref: i.ref, offset: BigInt(i.offset), total: BigInt(i.total), expected: i.expected, startedAt: timestampFromDate(i.started), updatedAt: timestampFromDate(i.updated) });
  const abort = async (key: string) => {
    const i = ingests.get(key);
    if (!i) return false;
    ingests.delete(key);
    await i.fh.close().catch(() => {});
    await rm(i.file, { force: true });
    return true;
  };

  return {
    Info(call: grpc.ServerUnaryCall<InfoRequest, InfoResponse>, cb: grpc.sendUnaryData<InfoResponse>) {
      unary(cb, async () => create(InfoResponseSchema, { info: await info(choose(call).dir, call.request.digest) }));
    },

    Update(call: grpc.ServerUnaryCall<UpdateRequest, UpdateResponse>, cb: grpc.sendUnaryData<UpdateResponse>) {
      unary(cb, async () => create(UpdateResponseSchema, { info: await info(choose(call).dir, call.request.info?.digest ?? "") }));
    },

    List(call: grpc.ServerWritableStream<ListContentRequest, ListContentResponse>) {
      (async () => {
        const { dir } = choose(call);
        for (const alg of await readdir(path.join(dir, "blobs")).catch(() => [] as string[])) {
          for (const hex of await readdir(path.join(dir, "blobs", alg)).catch(() => [] as string[])) {
            const digest = `${alg}:${hex}`;
            if (!DIGEST.test(digest)) continue;
            const i = await info(dir, digest).catch(() => undefined);
            if (i) call.write(create(ListContentResponseSchema, { info: [i] }));
          }
        }
      })().then(() => call.end(), (e: unknown) => failStream(call, toError(e)));
    },

    Delete(_call: grpc.ServerUnaryCall<DeleteContentRequest, Empty>, cb: grpc.sendUnaryData<Empty>) {
      cb({ code: 7, details: "deleting the client's content is not allowed" });
    },

    Read(call: grpc.ServerWritableStream<ReadContentRequest, ReadContentResponse>) {
      (async () => {
        const { dir } = choose(call);
        const { digest, offset, size } = call.request;
        const i = await info(dir, digest);
        const start = Number(offset);
        const end = size > 0n ? Math.min(Number(i.size), start + Number(size)) : Number(i.size);
        if (start < 0 || start > Number(i.size)) throw invalid(`offset ${start} out of range for ${digest} of ${i.size} bytes`);
        if (end <= start) return;
        let at = start;
        for await (const chunk of createReadStream(blobPath(dir, digest), { start, end: end - 1, highWaterMark: CHUNK })) {
          const data = chunk as Buffer;
          if (!call.write(create(ReadContentResponseSchema, { offset: BigInt(at), data }))) await new Promise((r) => call.once("drain", r));
          at += data.length;
        }
      })().then(() => call.end(), (e: unknown) => failStream(call, toError(e)));
    },

    Status(call: grpc.ServerUnaryCall<StatusRequest, StatusResponse>, cb: grpc.sendUnaryData<StatusResponse>) {
      unary(cb, async () => {
        const i = ingests.get(`${choose(call).id}\0${call.request.ref}`);
        if (!i) throw notFound(`no write in progress for ref ${call.request.ref}`);
        return create(StatusResponseSchema, { status: statusOf(i) });
      });
    },

    ListStatuses(call: grpc.ServerUnaryCall<ListStatusesRequest, ListStatusesResponse>, cb: grpc.sendUnaryData<ListStatusesResponse>) {
      unary(cb, async () => {
        const { id } = choose(call);
        return create(ListStatusesResponseSchema, { statuses: [...ingests].filter(([k]) => k.startsWith(`${id}\0`)).map(([, i]) => statusOf(i)) });
      });
    },

    Abort(call: grpc.ServerUnaryCall<AbortRequest, Empty>, cb: grpc.sendUnaryData<Empty>) {
      unary(cb, async () => {
        const key = `${choose(call).id}\0${call.request.ref}`;
        const aborted = await abort(key);
        owners.delete(key);
        if (!aborted) throw notFound(`no write in progress for ref ${call.request.ref}`);
        return {} as Empty;
      });
    },

    Write(call: grpc.ServerDuplexStream<WriteContentRequest, WriteContentResponse>) {
      let store: { id: string; dir: string; writable: boolean };
      let key: string | undefined;
      let queue = Promise.resolve();
      let failed = false;
      const fail = (e: unknown) => {
        if (failed) return;
        failed = true;
        failStream(call, toError(e));
      };
      const handle = async (req: WriteContentRequest) => {
        store ??= choose(call);
        if (!store.writable) throw { code: 7, details: `store ${store.id} is read-only` } satisfies Status;
        if (!key) {
          if (!req.ref) throw invalid("first message of a write must name a ref");
          key = `${store.id}\0${req.ref}`;
        }
        // Another stream writes this ref (two platforms exporting one layer): Unavailable, which
        // content.OpenWriter retries until the ref is free, then finds the blob (AlreadyExists).
        // Taken before any await, so two streams starting together cannot both take it.
        const owner = owners.get(key);
        if (owner !== undefined && owner !== call) throw { code: 14, details: `ref ${key.slice(key.indexOf("\0") + 1)} locked: another write is in progress` } satisfies Status;
        owners.set(key, call);
        let i = ingests.get(key);
        if (!i) {
          // containerd's local store refuses a writer for a blob it has (content.OpenWriter then counts it written).
          if (req.expected && (await stat(blobPath(store.dir, req.expected)).then((s) => s.isFile(), () => false))) throw { code: 6, details: `content ${req.expected}: already exists` } satisfies Status;
          const ingest = path.join(store.dir, "ingest");
          await mkdir(ingest, { recursive: true });
          const file = path.join(ingest, createHash("sha256").update(req.ref).digest("hex"));
          const now = new Date();
          i = { ref: req.ref, file, fh: await open(file, "w+"), hash: createHash("sha256"), offset: 0, total: Number(req.total), expected: req.expected, started: now, updated: now };
          ingests.set(key, i);
        }
        if (req.total > 0n) i.total = Number(req.total);
        if (req.expected) i.expected = req.expected;
        const reply = (action: WriteAction, digest = "") =>
          call.write(create(WriteContentResponseSchema, { action, startedAt: timestampFromDate(i!.started), updatedAt: timestampFromDate(i!.updated), offset: BigInt(i!.offset), total: BigInt(i!.total), digest }));
        if (req.action === WriteAction.STAT) return reply(WriteAction.STAT);
        if (req.data.length > 0 || req.action === WriteAction.WRITE) {
          const at = Number(req.offset);
          if (at !== i.offset) {
            // Only a restart from 0 is possible: the running digest cannot be rewound.
            if (at !== 0) throw invalid(`write of ${req.ref} at offset ${at}, expected ${i.offset}`);
            await i.fh.truncate(0);
            i.hash = createHash("sha256");
            i.offset = 0;
          }
          if (req.data.length) {
            await i.fh.write(req.data, 0, req.data.length, i.offset);
            i.hash.update(req.data);
            i.offset += req.data.length;
            i.updated = new Date();
          }
        }
        if (req.action === WriteAction.WRITE) return reply(WriteAction.WRITE);
        // COMMIT: size and digest must be those announced.
        const size = Number(req.total) || i.total;
        if (size && size !== i.offset) throw { code: 9, details: `unexpected commit size ${i.offset}, expected ${size}` } satisfies Status;
        const digest = `sha256:${i.hash.copy().digest("hex")}`;
        const expected = req.expected || i.expected;
        if (expected && expected !== digest) throw { code: 9, details: `unexpected commit digest ${digest}, expected ${expected}` } satisfies Status;
        await i.fh.sync();
        await i.fh.close();
        const dest = blobPath(store.dir, digest);
        await mkdir(path.dirname(dest), { recursive: true });
        await rename(i.file, dest);
        ingests.delete(key);
        owners.delete(key);
        await rmdir(path.join(store.dir, "ingest")).catch(() => {}); // only when empty
        return reply(WriteAction.COMMIT, digest);
      };
      call.on("data", (req: WriteContentRequest) => {
        queue = queue.then(() => (failed ? undefined : handle(req).then(() => undefined))).catch(fail);
      });
      call.on("end", () => {
        void queue.then(() => failed || call.end());
      });
      call.on("error", () => {});
      // A write that never committed leaves nothing behind when the stream goes away.
      call.on("close", () => {
        void queue.then(async () => {
          if (!key || owners.get(key) !== call) return;
          await abort(key);
          owners.delete(key);
        });
      });
    },
  };
}

function isStatus(e: unknown): e is Status {
  return typeof e === "object" && e !== null && typeof (e as Status).code === "number" && typeof (e as Status).details === "string";
}

function toError(e: unknown): Error & { code: number; details: string } {
  const s = isStatus(e) ? e : { code: 13, details: (e as Error)?.message ?? String(e) };
  return Object.assign(new Error(s.details), s);
}
