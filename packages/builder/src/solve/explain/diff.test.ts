// The words of a cache-miss reason, from two sets of key inputs (no build needed).
import { describe, expect, it } from "vitest";
import { changedPaths, diffInputs, type DiffContext } from "./diff.js";
import { describeParent, stepName } from "./origins.js";

const ctx: DiffContext = { argNames: new Set(["VERSION"]), parents: {} };
const run = { v: 1, op: "run", parent: "sha256:p", argv: ["/bin/sh", "-c", "make"], env: ["PATH=/bin", "VERSION=1"], cwd: "/", user: "", mounts: [] };

describe("diffInputs", () => {
  it("names nothing for equal inputs", () => {
    expect(diffInputs(run, { ...run }, ctx)).toEqual([]);
  });

  it("tells ARG from ENV, and says set/unset", () => {
    const cur = { ...run, env: ["PATH=/usr/bin", "VERSION=2", "NEW=1"] };
    expect(diffInputs(run, cur, ctx).map((c) => c.text)).toEqual(["ENV PATH changed", "ARG VERSION changed", "ENV NEW set"]);
    expect(diffInputs(cur, run, ctx).map((c) => c.text)).toEqual(["ENV PATH changed", "ARG VERSION changed", "ENV NEW unset"]);
  });

  it("puts the parent first and shows short scalar values", () => {
    const cur = { ...run, cwd: "/app", user: "1000", parent: "sha256:q" };
    const withOrigin = { ...ctx, parents: { cur: { kind: "step" as const, name: "step 2" } } };
    expect(diffInputs(run, cur, withOrigin).map((c) => c.text)).toEqual(["parent changed (step 2)", "WORKDIR changed (/ → /app)", "USER changed (\"\" → 1000)"]);
  });

  it("names a command change without printing the command", () => {
    expect(diffInputs(run, { ...run, argv: ["/bin/sh", "-c", "make all"] }, ctx)).toEqual([{ input: "argv", text: "command changed" }]);
  });

  it("names mounts added and mount options changed", () => {
    const cache = { type: "cache", target: "/c", id: "/c", sharing: "shared", ro: false };
    expect(diffInputs(run, { ...run, mounts: [cache] }, ctx).map((c) => c.text)).toEqual(["--mount changed: none → type=cache,target=/c"]);
    const a = { ...run, mounts: [cache] };
    expect(diffInputs(a, { ...run, mounts: [{ ...cache, ro: true }] }, ctx).map((c) => c.text)).toEqual(["--mount type=cache,target=/c: ro changed (false → true)"]);
    const bind = { type: "bind", from: "context", source: "src", target: "/s", digest: "sha256:1", rw: false };
    expect(diffInputs({ ...run, mounts: [bind] }, { ...run, mounts: [{ ...bind, digest: "sha256:2" }] }, ctx).map((c) => c.text)).toEqual([
      "--mount type=bind,target=/s: source files changed",
    ]);
  });

  it("names COPY flags and context files", () => {
    const copy = { v: 1, op: "copy", parent: "sha256:p", sources: ["."], sourceKey: { context: "sha256:1" }, dest: "/app", chmod: null };
    const cur = { ...copy, sourceKey: { context: "sha256:2" }, chmod: "755" };
    const files = { prev: { v: 1 as const, files: [["a", "file 644 0:0 1 h1"], ["b", "file 644 0:0 1 h2"]] as [string, string][] }, cur: { v: 1 as const, files: [["a", "file 755 0:0 1 h1"], ["c", "file 644 0:0 1 h3"]] as [string, string][] } };
    expect(diffInputs(copy, cur, { ...ctx, files })).toEqual([
      { input: "sourceKey", text: "context files changed: a (+2 more)", items: ["a", "b", "c"] },
      { input: "chmod", text: "--chmod changed (none → 755)" },
    ]);
    // Without both listings the files cannot be named.
    expect(diffInputs(copy, cur, ctx)[0]!.text).toBe("context files changed");
  });

  it("names a COPY --from stage by where its filesystem came from", () => {
    const copy = { v: 1, op: "copy", parent: "sha256:p", sources: ["/out"], sourceKey: { from: "sha256:1", sources: ["/out"] } };
    const cur = { ...copy, sourceKey: { from: "sha256:2", sources: ["/out"] } };
    expect(diffInputs(copy, cur, { ...ctx, fromOrigins: { cur: { kind: "step", name: "step builder 3" } } })[0]!.text).toBe("--from changed (step builder 3)");
  });
});

describe("origins", () => {
  it("describes a base image digest change with short digests", () => {
    const d1 = `sha256:${"a".repeat(64)}`;
    const d2 = `sha256:${"b".repeat(64)}`;
    expect(describeParent({ kind: "base", ref: "app:base", digest: d1 }, { kind: "base", ref: "app:base", digest: d2 })).toBe(
      `base image digest changed: app:base sha256:${"a".repeat(12)} → sha256:${"b".repeat(12)}`,
    );
    expect(describeParent({ kind: "base", ref: "alpine:3.18", digest: d1 }, { kind: "base", ref: "alpine:3.19", digest: d2 })).toBe("base image changed: alpine:3.18 → alpine:3.19");
    expect(describeParent(undefined, undefined)).toBe("parent changed");
  });

  it("names steps as progress labels them, without the count", () => {
    const ref = { id: "s1.3", stage: "builder", stageIndex: 1, index: 3, total: 5, instruction: "RUN make", line: 4 };
    expect(stepName({ ...ref, label: "[builder 4/6] RUN make" })).toBe("step builder 4");
    expect(stepName({ ...ref, label: "[ 4/12] RUN make" })).toBe("step 4");
  });

  it("lists changed paths in path order", () => {
    expect(changedPaths({ v: 1, files: [["z", "1"], ["a", "1"]] }, { v: 1, files: [["z", "2"], ["a", "1"], ["m", "1"]] })).toEqual(["m", "z"]);
  });
});
