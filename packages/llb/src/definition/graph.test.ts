import { createHash } from "node:crypto";
import { fromBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { OpSchema, MountType } from "../gen/github.com/moby/buildkit/solver/pb/ops_pb.js";
import { marshal } from "./graph.js";
import * as ops from "./ops.js";

const sha = (b: Uint8Array) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

describe("LLB definitions", () => {
  it("names each op by the sha256 of its bytes, inputs first, one terminal op last", () => {
    const img = ops.source("docker-image://docker.io/library/busybox:latest", {});
    const run = ops.exec({ args: ["true"], env: [], cwd: "/", user: "", mounts: [{ dest: "/", from: img, output: true }] }).get("/");
    const { definition, digests } = marshal(run);
    expect(definition.def).toHaveLength(3);
    const [src, exec, terminal] = definition.def.map((b) => fromBinary(OpSchema, b));
    expect(src!.op.case).toBe("source");
    expect(exec!.inputs).toEqual([expect.objectContaining({ digest: sha(definition.def[0]!), index: 0n })]);
    expect(terminal!.op.case).toBeUndefined();
    expect(terminal!.inputs[0]!.digest).toBe(sha(definition.def[1]!));
    expect(digests.get(run!.vertex)).toBe(sha(definition.def[1]!));
  });

  it("writes two equal ops once (two stages FROM one image)", () => {
    const a = ops.source("docker-image://x", { b: "1", a: "2" });
    const b = ops.source("docker-image://x", { a: "2", b: "1" });
    const f = ops.file(a, [{ kind: "copy", src: "/", dest: "/x", from: b, copy: {} }]);
    const { definition } = marshal(f);
    expect(definition.def).toHaveLength(3); // one source, the file op, the terminal op
  });

  it("chains file actions as llb does: later actions read (inputs + index of the action before)", () => {
    const base = ops.source("docker-image://base", {});
    const ctx = ops.source("local://context", {});
    const f = ops.file(base, [
      { kind: "copy", src: "/a", dest: "/d/", from: ctx, owner: "app:1", copy: {} },
      { kind: "copy", src: "/b", dest: "/d/", from: ctx, copy: {} },
      { kind: "mkdir", path: "/e", mode: 0o755, makeParents: true },
    ]);
    const op = fromBinary(OpSchema, marshal(f).definition.def.at(-2)!);
    const actions = op.op.case === "file" ? op.op.value.actions : [];
    expect(actions.map((a) => [a.input, a.secondaryInput, a.output])).toEqual([[0n, 1n, -1n], [2n, 1n, -1n], [3n, -1n, 0n]]);
    const owner = actions[0]!.action.case === "copy" ? actions[0]!.action.value.owner : undefined;
    expect(owner?.user?.user).toEqual({ case: "byName", value: expect.objectContaining({ name: "app", input: 0n }) });
    expect(owner?.group?.user).toEqual({ case: "byID", value: 1 });
  });

  it("sorts exec mounts by target with the root first, scratch mounts as input -1, outputs only where asked", () => {
    const base = ops.source("docker-image://base", {});
    const outs = ops.exec({
      args: ["make"], env: [], cwd: "/", user: "",
      mounts: [
        { dest: "/z", type: MountType.TMPFS, output: false },
        { dest: "/cache", type: MountType.CACHE, output: false, cache: { id: "/c", sharing: 0 } },
        { dest: "/", from: base, output: true },
      ],
    });
    const op = fromBinary(OpSchema, marshal(outs.get("/")).definition.def.at(-2)!);
    const mounts = op.op.case === "exec" ? op.op.value.mounts : [];
    expect(mounts.map((m) => [m.dest, m.input, m.output])).toEqual([["/", 0n, 0n], ["/cache", -1n, -1n], ["/z", -1n, -1n]]);
    expect([...outs.keys()]).toEqual(["/"]);
  });

  it("writes an op's fields in Go's order, the oneof op last (BuildKit names vertices by the digest of its own re-marshalling: solver/llbsolver/vertex.go recomputeDigests)", () => {
    const img = ops.source("docker-image://docker.io/library/busybox:latest", {}, { platform: { os: "linux", architecture: "amd64" } });
    const bytes = Buffer.from(marshal(img).definition.def[0]!);
    // Platform (field 10, tag 0x52) first, then the source (field 3, tag 0x1a), as protobuf-go's
    // output for the same op; protobuf-es alone would write 0x1a first.
    expect(bytes[0]).toBe(0x52);
    expect(bytes.indexOf(0x1a, 2 + bytes[1]!)).toBe(2 + bytes[1]!);
    expect(fromBinary(OpSchema, bytes).op.case).toBe("source");
  });

  it("writes the caps an op needs into its metadata (as llb's addCap), outside the digest", () => {
    const ctx = ops.source("local://context", {});
    const plain = ops.file(undefined, [{ kind: "copy", src: "/", dest: "/d/", from: ctx, copy: {} }]);
    const excluding = ops.file(undefined, [{ kind: "copy", src: "/", dest: "/d/", from: ctx, copy: { excludePatterns: ["*.md"], modeStr: "u+x" } }]);
    const m = marshal(excluding);
    const digest = m.digests.get(excluding!.vertex)!;
    // No "file.copy.modestring": BuildKit never registers it (solver/pb/caps.go has no Caps.Init
    // for it), so llbsolver's WithValidateCaps would refuse the op as an unknown capability.
    expect(m.definition.metadata[digest]?.caps).toEqual({ "file.copy.includeexcludepatterns": true });
    expect(marshal(plain).definition.metadata[marshal(plain).digests.get(plain!.vertex)!]).toBeUndefined();
    const run = ops.exec({ args: ["true"], env: [], cwd: "/", user: "", mounts: [{ dest: "/", from: ctx, output: true }, { dest: "/run/buildkit/ssh_agent.0", type: MountType.SSH, output: false, ssh: { id: "default", uid: 0, gid: 0, mode: 0o600, optional: true } }], ulimits: [{ name: "nofile", soft: 1, hard: 2 }], secretEnv: [{ id: "t", name: "T", optional: false }] }).get("/");
    const r = marshal(run);
    expect(Object.keys(r.definition.metadata[r.digests.get(run!.vertex)!]!.caps).sort()).toEqual(["exec.meta.ulimit", "exec.mount.ssh", "exec.secretenv"]);
  });
});
