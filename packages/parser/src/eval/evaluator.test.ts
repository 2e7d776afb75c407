import { describe, expect, it } from "vitest";
import { parseDockerfile } from "../lexer/parser.js";
import { toStages } from "../ir/stages.js";
import { DockerfileSyntaxError } from "../errors.js";
import { StageEvaluator } from "./evaluator.js";
import type { Instruction } from "../ir/types.js";

const platforms = {
  target: { os: "linux", architecture: "arm64" },
  build: { os: "linux", architecture: "amd64" },
};

function setup(src: string, buildArgs: Record<string, string> = {}, baseEnv = ["PATH=/bin"], stage = 0) {
  const ir = toStages(parseDockerfile(src));
  const ev = new StageEvaluator({ globalArgs: ir.globalArgs, buildArgs: new Map(Object.entries(buildArgs)), baseEnv, platforms, escapeToken: ir.escapeToken });
  return { ir, ev, insts: ir.stages[stage].instructions };
}

function runAll(ev: StageEvaluator, insts: Instruction[]) {
  return insts.map((i) => ev.step(i));
}

describe("StageEvaluator", () => {
  it("ENV uses one snapshot per instruction; ARG values see earlier ones on the same line", () => {
    const { ev, insts } = setup("FROM a\nENV a=old\nENV a=new b=$a\nARG x=1 y=$x\n");
    const out = runAll(ev, insts);
    expect(out[1].inst).toMatchObject({ pairs: [{ key: "a", value: "new" }, { key: "b", value: "old" }] });
    expect(out[2].inst).toMatchObject({ args: [{ name: "x", default: "1" }, { name: "y", default: "1" }] });
    expect(out[2].usedArgs).toEqual({ x: "1" });
  });

  it("global ARGs are visible only when declared again in the stage", () => {
    const { ev, insts } = setup("ARG V=1.0\nARG G\nFROM a\nRUN --mount=type=cache,target=/c/$V x\nARG V\nRUN --mount=type=cache,target=/c/$V x\nARG G\n");
    const out = runAll(ev, insts);
    expect(out[0].inst).toMatchObject({ mounts: [{ target: "/c/" }] });
    expect(out[2].inst).toMatchObject({ mounts: [{ target: "/c/1.0" }] });
    expect(out[2].usedArgs).toEqual({ V: "1.0" });
    expect(ev.argsInScope()).toEqual({ V: "1.0" });
  });

  it("build args win over defaults; ENV overrides ARG and is not a used arg", () => {
    const { ev, insts } = setup("FROM a\nARG A=default B=b\nWORKDIR /$A/$B\nENV B=env\nWORKDIR /$B\n", { A: "given" });
    const out = runAll(ev, insts);
    expect(out[1].inst).toMatchObject({ path: "/given/b" });
    expect(out[1].usedArgs).toEqual({ A: "given", B: "b" });
    expect(out[3].inst).toMatchObject({ path: "/env" });
    expect(out[3].usedArgs).toEqual({});
    expect(ev.argsInScope()).toEqual({ A: "given", B: "env" });
  });

  it("build args that are never declared are not visible", () => {
    const { ev, insts } = setup("FROM a\nUSER $U\n", { U: "root" });
    expect(ev.step(insts[0]).inst).toMatchObject({ user: "" });
  });

  it("platform ARGs come from the global scope when declared", () => {
    const { ev, insts } = setup("FROM a\nARG TARGETPLATFORM TARGETARCH BUILDOS TARGETVARIANT\nLABEL p=$TARGETPLATFORM a=$TARGETARCH o=$BUILDOS v=x$TARGETVARIANT\n");
    const out = runAll(ev, insts);
    expect(out[1].inst).toMatchObject({ pairs: [{ value: "linux/arm64" }, { value: "arm64" }, { value: "linux" }, { value: "x" }] });
  });

  it("keeps RUN text, CMD, SHELL and ONBUILD unexpanded; expands EXPOSE with word splitting", () => {
    const { ev, insts } = setup('FROM a\nENV P="80 443/udp" X=x\nRUN echo $X\nCMD echo $X\nONBUILD RUN echo $X\nEXPOSE $P 8$X\n');
    const out = runAll(ev, insts);
    expect(out[1].inst).toMatchObject({ command: "echo $X" });
    expect(out[2].inst).toMatchObject({ command: "echo $X" });
    expect(out[3].inst).toMatchObject({ triggerText: "RUN echo $X" });
    expect(out[4].inst).toMatchObject({ ports: ["80", "443/udp", "8x"] });
  });

  it("expands COPY/ADD fields and heredoc bodies unless the delimiter was quoted", () => {
    const { ev, insts } = setup("FROM a\nARG U=app D=/srv\nCOPY --chown=$U --chmod=${M:-644} <<A <<'B' $D/\nuser '$U' \\$HOME\nA\nkeep $U\nB\nADD --checksum=sha256:$U x $D\n");
    const out = runAll(ev, insts);
    expect(out[1].inst).toMatchObject({
      chown: "app",
      chmod: "644",
      dest: "/srv/",
      heredocs: [{ name: "A", content: "user 'app' $HOME\n" }, { name: "B", content: "keep $U\n" }],
    });
    expect(out[1].usedArgs).toEqual({ U: "app", D: "/srv" });
    expect(out[2].inst).toMatchObject({ checksum: "sha256:app", sources: ["x"], dest: "/srv" });
  });

  it("expands RUN --mount values and validates the result", () => {
    const { ev, insts } = setup("FROM a\nARG T=cache ID=x\nRUN --mount=type=$T,target=/c,id=$ID,uid=${UID:-7} make\nRUN --mount=type=$ID,target=/c make\n");
    const out = runAll(ev, insts.slice(0, 2));
    expect(out[1].inst).toMatchObject({ command: "make", mounts: [{ type: "cache", target: "/c", id: "x", uid: 7, hasVariables: false }] });
    expect(() => ev.step(insts[2])).toThrow(DockerfileSyntaxError);
    expect(() => ev.step(insts[2])).toThrow(/unsupported mount type "x"/);
  });

  it("reports expansion errors at the instruction", () => {
    const { ev, insts } = setup("FROM a\n  WORKDIR ${DIR:?set DIR first}\n");
    try {
      ev.step(insts[0]);
      expect.unreachable();
    } catch (e) {
      const err = e as DockerfileSyntaxError;
      expect(err.reason).toBe('failed to process "${DIR:?set DIR first}": DIR: set DIR first');
      expect([err.line, err.column]).toEqual([2, 3]);
    }
  });

  it("image env replaces in place; run env moves re-assigned names to the end", () => {
    const { ev, insts } = setup("FROM a\nENV A=1 B=2\nARG C=3\nENV A=4\n", {}, ["PATH=/bin", "A=0"]);
    runAll(ev, insts);
    expect(ev.imageEnv()).toEqual(["PATH=/bin", "A=4", "B=2"]);
    expect(ev.runEnv()).toEqual(["PATH=/bin", "B=2", "C=3", "A=4"]);
  });

  it("adds a default PATH when the base image has none", () => {
    const { ev } = setup("FROM a\n", {}, []);
    expect(ev.imageEnv()).toEqual(["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]);
  });

  it("passes proxy build args to RUN without an ARG, but keeps them out of the scope", () => {
    const { ev, insts } = setup("FROM a\nRUN x\n", { http_proxy: "http://p:3128", NO_PROXY: "localhost", OTHER: "x" });
    ev.step(insts[0]);
    expect(ev.runEnv()).toEqual(["PATH=/bin", "HTTP_PROXY=http://p:3128", "http_proxy=http://p:3128", "NO_PROXY=localhost", "no_proxy=localhost"]);
    expect(ev.argsInScope()).toEqual({});
    const declared = setup("FROM a\nARG HTTP_PROXY\n", { HTTP_PROXY: "http://q" });
    runAll(declared.ev, declared.insts);
    expect(declared.ev.argsInScope()).toEqual({ HTTP_PROXY: "http://q" });
    expect(declared.ev.runEnv()).toEqual(["PATH=/bin", "HTTP_PROXY=http://q", "http_proxy=http://q"]);
  });

  it("a stage built FROM another stage inherits its ARGs and ENV", () => {
    const { ir, ev, insts } = setup("FROM a AS base\nARG V=1\nENV E=e\nFROM base\nRUN --mount=type=tmpfs,target=/$V$E x\n");
    runAll(ev, insts);
    const child = new StageEvaluator({ globalArgs: ir.globalArgs, buildArgs: new Map(), baseEnv: [], platforms, escapeToken: "\\", parent: ev });
    const r = child.step(ir.stages[1].instructions[0]);
    expect(r.inst).toMatchObject({ mounts: [{ target: "/1e" }] });
    expect(r.usedArgs).toEqual({ V: "1" });
    expect(child.argsInScope()).toEqual({ V: "1" });
  });

  it("uses the backtick escape of the Dockerfile", () => {
    const { ev, insts } = setup("# escape=`\nFROM a\nENV P=C:\\dir X=`$HOME\n");
    expect(ev.step(insts[0]).inst).toMatchObject({ pairs: [{ value: "C:\\dir" }, { value: "$HOME" }] });
  });
});
