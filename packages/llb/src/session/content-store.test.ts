// The session's content store against a grpc-js client speaking containerd's content API the way
// containerd's content proxy does (STAT, WRITE…, COMMIT on one Write stream; Info; Read ranges).
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Content, InfoRequestSchema, ReadContentRequestSchema, WriteAction, WriteContentRequestSchema,
  type InfoResponse, type ReadContentResponse, type WriteContentResponse,
} from "../gen/github.com/containerd/containerd/api/services/content/v1/content_pb.js";
import { grpcDefinition } from "../wire/grpc-service.js";
import { contentHandlers, STORE_ID_HEADER } from "./content-store.js";

type Untyped = grpc.Client & Record<string, (...a: unknown[]) => unknown>;
let dir: string;
let server: grpc.Server;
let client: Untyped;
const blob = randomBytes(3 << 20); // larger than one Read chunk
const sha = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

beforeAll(async () => {
  dir = mkdtempSync("/tmp/tbuild-content-");
  mkdirSync(path.join(dir, "ro/blobs/sha256"), { recursive: true });
  writeFileSync(path.join(dir, "ro/blobs/sha256", sha(blob).slice(7)), blob);
  mkdirSync(path.join(dir, "rw/blobs/sha256"), { recursive: true });
  server = new grpc.Server();
  server.addService(grpcDefinition(Content), contentHandlers(new Map([["ro", { dir: path.join(dir, "ro") }], ["rw", { dir: path.join(dir, "rw"), writable: true }]])) as unknown as grpc.UntypedServiceImplementation);
  const port = await new Promise<number>((r, j) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? j(e) : r(p))));
  const Client = grpc.makeGenericClientConstructor(grpcDefinition(Content), "Content");
  client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as Untyped;
});
afterAll(() => {
  client?.close();
  server?.forceShutdown();
  rmSync(dir, { recursive: true, force: true });
});

const md = (store?: string) => {
  const m = new grpc.Metadata();
  if (store) m.set(STORE_ID_HEADER, store);
  return m;
};
const info = (store: string | undefined, digest: string) =>
  new Promise<InfoResponse>((resolve, reject) => (client.Info as (...a: unknown[]) => void)(create(InfoRequestSchema, { digest }), md(store), (e: Error | null, r: InfoResponse) => (e ? reject(e) : resolve(r))));
const read = (digest: string, offset: number, size: number) =>
  new Promise<Buffer>((resolve, reject) => {
    const call = (client.Read as (...a: unknown[]) => grpc.ClientReadableStream<ReadContentResponse>)(create(ReadContentRequestSchema, { digest, offset: BigInt(offset), size: BigInt(size) }), md("ro"));
    const parts: Buffer[] = [];
    let at = offset;
    call.on("data", (r: ReadContentResponse) => {
      expect(Number(r.offset)).toBe(at);
      at += r.data.length;
      parts.push(Buffer.from(r.data));
    });
    call.on("end", () => resolve(Buffer.concat(parts)));
    call.on("error", reject);
  });
/** A Write stream as containerd's proxy drives it: sends each request after the previous answer. */
const write = (store: string, reqs: Parameters<typeof create<typeof WriteContentRequestSchema>>[1][]) =>
  new Promise<WriteContentResponse[]>((resolve, reject) => {
    const call = (client.Write as (m: grpc.Metadata) => grpc.ClientDuplexStream<unknown, WriteContentResponse>)(md(store));
    const got: WriteContentResponse[] = [];
    const next = () => (reqs.length ? call.write(create(WriteContentRequestSchema, reqs.shift())) : call.end());
    call.on("data", (r: WriteContentResponse) => {
      got.push(r);
      next();
    });
    call.on("end", () => resolve(got));
    call.on("error", reject);
    next();
  });

describe("the session's content store (containerd.services.content.v1.Content)", () => {
  it("answers Info with the blob's size, NotFound for a missing blob, and refuses a request without a store id or with an unknown one", async () => {
    expect(Number((await info("ro", sha(blob))).info!.size)).toBe(blob.length);
    await expect(info("ro", `sha256:${"0".repeat(64)}`)).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    await expect(info(undefined, sha(blob))).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
    await expect(info("elsewhere", sha(blob))).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    await expect(info("ro", "sha256:../../etc/passwd")).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
  });

  it("reads a range, and the whole blob in chunks with their offsets; a read at the end is empty", async () => {
    expect(await read(sha(blob), 1000, 10)).toEqual(blob.subarray(1000, 1010));
    expect((await read(sha(blob), 0, 0)).equals(blob)).toBe(true);
    expect((await read(sha(blob), blob.length, 512)).length).toBe(0);
  });

  it("writes a blob: STAT, WRITE at offsets, COMMIT with size and digest; the blob lands under blobs/ and no ingest is left", async () => {
    const data = randomBytes(100_000);
    const got = await write("rw", [
      { action: WriteAction.STAT, ref: "layer-1", total: BigInt(data.length), expected: sha(data) },
      { action: WriteAction.WRITE, ref: "layer-1", offset: 0n, data: data.subarray(0, 60_000) },
      { action: WriteAction.WRITE, ref: "layer-1", offset: 60_000n, data: data.subarray(60_000) },
      { action: WriteAction.COMMIT, ref: "layer-1", offset: BigInt(data.length), total: BigInt(data.length), expected: sha(data) },
    ]);
    expect(got.map((r) => [r.action, Number(r.offset)])).toEqual([[WriteAction.STAT, 0], [WriteAction.WRITE, 60_000], [WriteAction.WRITE, 100_000], [WriteAction.COMMIT, 100_000]]);
    expect(got.at(-1)!.digest).toBe(sha(data));
    expect(readFileSync(path.join(dir, "rw/blobs/sha256", sha(data).slice(7))).equals(data)).toBe(true);
    expect(existsSync(path.join(dir, "rw/ingest"))).toBe(false);
    // Written once: a second writer of the same blob is told it exists (content.OpenWriter counts that as written).
    await expect(write("rw", [{ action: WriteAction.STAT, ref: "layer-1b", total: BigInt(data.length), expected: sha(data) }])).rejects.toMatchObject({ code: grpc.status.ALREADY_EXISTS });
  });

  it("lets one stream write a ref at a time: another is told Unavailable (containerd's writer retries), and after the commit finds the blob there", async () => {
    const data = randomBytes(1000);
    const first = (client.Write as (m: grpc.Metadata) => grpc.ClientDuplexStream<unknown, WriteContentResponse>)(md("rw"));
    const answers: WriteContentResponse[] = [];
    const answered = () => new Promise<void>((r) => first.once("data", (x: WriteContentResponse) => (answers.push(x), r())));
    first.on("error", () => {});
    first.write(create(WriteContentRequestSchema, { action: WriteAction.STAT, ref: "shared", total: 1000n, expected: sha(data) }));
    await answered();
    await expect(write("rw", [{ action: WriteAction.STAT, ref: "shared", total: 1000n, expected: sha(data) }])).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    first.write(create(WriteContentRequestSchema, { action: WriteAction.WRITE, ref: "shared", offset: 0n, data }));
    await answered();
    first.write(create(WriteContentRequestSchema, { action: WriteAction.COMMIT, ref: "shared", offset: 1000n, total: 1000n, expected: sha(data) }));
    await answered();
    first.end();
    expect(answers.at(-1)!.digest).toBe(sha(data));
    await expect(write("rw", [{ action: WriteAction.STAT, ref: "shared", total: 1000n, expected: sha(data) }])).rejects.toMatchObject({ code: grpc.status.ALREADY_EXISTS });
  });

  it("refuses a commit whose digest or size is not the data's, keeping nothing; and any write to a read-only store", async () => {
    const data = Buffer.from("short");
    await expect(write("rw", [
      { action: WriteAction.STAT, ref: "bad", total: 5n },
      { action: WriteAction.WRITE, ref: "bad", offset: 0n, data },
      { action: WriteAction.COMMIT, ref: "bad", offset: 5n, total: 5n, expected: `sha256:${"1".repeat(64)}` },
    ])).rejects.toMatchObject({ code: grpc.status.FAILED_PRECONDITION });
    await expect(write("rw", [
      { action: WriteAction.STAT, ref: "short", total: 9n },
      { action: WriteAction.WRITE, ref: "short", offset: 0n, data },
      { action: WriteAction.COMMIT, ref: "short", offset: 5n, total: 9n },
    ])).rejects.toMatchObject({ code: grpc.status.FAILED_PRECONDITION });
    await new Promise((r) => setTimeout(r, 50));
    expect(readdirSync(path.join(dir, "rw/blobs/sha256")).filter((f) => f !== sha(Buffer.alloc(0)).slice(7)).some((f) => f === sha(data).slice(7))).toBe(false);
    expect(existsSync(path.join(dir, "rw/ingest")) ? readdirSync(path.join(dir, "rw/ingest")) : []).toEqual([]);
    await expect(write("ro", [{ action: WriteAction.STAT, ref: "x", total: 1n }])).rejects.toMatchObject({ code: grpc.status.PERMISSION_DENIED });
  });
});
