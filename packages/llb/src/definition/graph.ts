// The LLB graph: vertices (one pb.Op each, without its inputs) joined by output edges, and
// its marshalling into a pb.Definition. A vertex's digest is the sha256 of its marshalled
// Op with the inputs' digests filled in, as BuildKit's llb.Definition does (client/llb/
// definition.go), so the same graph always gives the same digests and the daemon's cache
// finds the same vertices again.
import { createHash } from "node:crypto";
import { create, toBinary } from "@bufbuild/protobuf";
import { DefinitionSchema, InputSchema, OpMetadataSchema, OpSchema, type Definition, type Op, type OpMetadata } from "../gen/github.com/moby/buildkit/solver/pb/ops_pb.js";

/** One operation of the graph; `inputs` are the outputs it reads, in the order its op indexes them. */
export interface Vertex {
  op: Omit<Op, "inputs">;
  inputs: Output[];
  /** Progress name and other metadata (pb.OpMetadata.description). */
  description?: Record<string, string>;
  ignoreCache?: boolean;
  /**
   * LLB capabilities the op needs beyond BuildKit 0.8's (pb.OpMetadata.caps, as llb's
   * addCap sets them): a daemon that does not know one refuses the definition
   * (llbsolver's WithValidateCaps) instead of ignoring the fields it cannot read.
   */
  caps?: string[];
}

/** An output of a vertex; `undefined` is scratch (an empty filesystem, no vertex). */
export type Output = { vertex: Vertex; index: number } | undefined;

/** A new vertex whose op is `op` reading `inputs`. */
export function vertex(op: Omit<Op, "inputs" | "$typeName" | "$unknown"> & Partial<Pick<Op, "$typeName">>, inputs: Output[], meta?: Pick<Vertex, "description" | "ignoreCache" | "caps">): Vertex {
  return { op: create(OpSchema, op as Op), inputs, ...meta };
}

/** Sorted copy: protobuf-es writes map entries in insertion order, Go in key order. */
export function sortedRecord(r: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(r ?? {}).sort()) out[k] = r![k]!;
  return out;
}

export interface Marshalled {
  definition: Definition;
  /** Digest of every vertex marshalled (the ids Control.Status reports them by). */
  digests: Map<Vertex, string>;
}

/**
 * An op's bytes in Go's field order: protobuf-go writes a message's ordinary fields by number
 * and its oneof fields after them (inputs, platform, constraints, then the exec/source/file…
 * op), where protobuf-es writes every field by number. The order matters: BuildKit re-marshals
 * each op it loads and names the vertex by the digest of those bytes (solver/llbsolver/
 * vertex.go, loadLLB → recomputeDigests, since v0.12), and Control.Status reports vertices by
 * that name; ops in protobuf-es' order got other digests, so no status matched a step. Op is
 * the only message of ops.proto with fields numbered after its oneof.
 */
function opBytes(op: Op): Uint8Array {
  const { op: body, $typeName: _, $unknown: __, ...fields } = op;
  const head = toBinary(OpSchema, create(OpSchema, fields));
  if (!body || body.case === undefined) return head;
  const tail = toBinary(OpSchema, create(OpSchema, { op: body }));
  return Buffer.concat([head, tail]);
}

/** Marshals the graph that ends at `root` (BuildKit's llb.State.Marshal). */
export function marshal(root: Output): Marshalled {
  const digests = new Map<Vertex, string>();
  const emitted = new Set<string>();
  const defs: Uint8Array[] = [];
  const metadata: Record<string, OpMetadata> = {};
  const visit = (v: Vertex): string => {
    const known = digests.get(v);
    if (known) return known;
    const inputs = v.inputs.map((o) => {
      if (!o) throw new Error("internal: scratch as an op input; use an input index of -1 instead");
      return create(InputSchema, { digest: visit(o.vertex), index: BigInt(o.index) });
    });
    const bytes = opBytes({ ...v.op, inputs });
    const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
    digests.set(v, digest);
    // Two vertices with the same op are one op of the definition (two stages FROM one image).
    if (!emitted.has(digest)) {
      emitted.add(digest);
      defs.push(bytes);
      if (v.description || v.ignoreCache || v.caps?.length) {
        const caps = Object.fromEntries([...new Set(v.caps ?? [])].sort().map((c) => [c, true]));
        metadata[digest] = create(OpMetadataSchema, { description: sortedRecord(v.description), ignoreCache: v.ignoreCache ?? false, caps });
      }
    }
    return digest;
  };
  // The last op has no body: its one input names the result (llb's terminal op).
  if (root) {
    const digest = visit(root.vertex);
    defs.push(toBinary(OpSchema, create(OpSchema, { inputs: [create(InputSchema, { digest, index: BigInt(root.index) })] })));
  }
  return { definition: create(DefinitionSchema, { def: defs, metadata }), digests };
}
