import { describe, expect, it } from "vitest";
import { parseDockerfile, parsePlatform, toStages } from "@tbuild/parser";
import { stageShare, type ShareContext } from "./shared-stages.js";

/** The share label of every stage under two targets, and whether the two targets share it. */
function shares(dockerfile: string) {
  const ir = toStages(parseDockerfile(dockerfile));
  const under = (target: string) => {
    // stageShare reads only these fields of a session.
    const session = { ir, buildArgs: new Map(), platforms: { target: parsePlatform(target), build: parsePlatform("linux/amd64") } } satisfies ShareContext;
    const seen = new Map();
    return ir.stages.map((s) => stageShare(session, s, seen));
  };
  const [amd, arm] = [under("linux/amd64"), under("linux/arm64")];
  return ir.stages.map((s, i) => ({ stage: s.name ?? String(i), shared: amd[i]!.key === arm[i]!.key, armLabel: arm[i]!.label }));
}

describe("stages shared by the targets of a multi-platform build", () => {
  it("shares a build-platform stage that names no TARGET* arg, and nothing that depends on the target", () => {
    expect(
      shares(
        [
          "FROM --platform=$BUILDPLATFORM busybox AS tools",
          "RUN make",
          "FROM --platform=$BUILDPLATFORM busybox AS cross",
          "ARG TARGETARCH",
          "RUN make GOARCH=$TARGETARCH",
          "FROM --platform=$BUILDPLATFORM busybox AS fetch",
          "COPY --from=alpine /etc/os-release /",
          "FROM tools AS child",
          "FROM --platform=linux/amd64 busybox AS pinned",
          "FROM busybox AS final",
          "COPY --from=tools /x /x",
          "",
        ].join("\n"),
      ),
    ).toEqual([
      { stage: "tools", shared: true, armLabel: "linux/amd64" },
      { stage: "cross", shared: false, armLabel: "linux/amd64->linux/arm64" },
      // COPY --from an image takes the target's image, as in BuildKit.
      { stage: "fetch", shared: false, armLabel: "linux/amd64->linux/arm64" },
      // FROM <stage>: runs where its parent ran, shared with it.
      { stage: "child", shared: true, armLabel: "linux/amd64" },
      { stage: "pinned", shared: true, armLabel: "linux/amd64" },
      { stage: "final", shared: false, armLabel: "linux/arm64" },
    ]);
  });

  it("follows the stages a stage reads: a per-target parent makes its child per target", () => {
    const s = shares(["FROM --platform=$BUILDPLATFORM busybox AS a", "ARG TARGETOS", "RUN x", "FROM --platform=$BUILDPLATFORM busybox AS b", "COPY --from=a /x /x", "FROM a AS c", ""].join("\n"));
    expect(s.map((x) => [x.shared, x.armLabel])).toEqual([
      [false, "linux/amd64->linux/arm64"],
      [false, "linux/amd64->linux/arm64"],
      [false, "linux/amd64->linux/arm64"],
    ]);
  });
});
