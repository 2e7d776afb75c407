import { describe, expect, it } from "vitest";
import { parseDockerfile } from "../lexer/parser.js";
import { toStages } from "./stages.js";
import { parseInstructionLine } from "./instruction-line.js";
import type { Instruction } from "./types.js";

function one(line: string): Instruction {
  return toStages(parseDockerfile(`FROM a\n${line}\n`)).stages[0].instructions[0];
}

describe("typed instructions", () => {
  it("RUN shell and exec forms, heredocs, network, security, devices", () => {
    expect(one("RUN echo $HOME")).toMatchObject({ kind: "run", form: "shell", command: "echo $HOME", mounts: [], devices: [] });
    expect(one('RUN ["echo", "a b"]')).toMatchObject({ form: "exec", command: ["echo", "a b"] });
    const r = one("RUN --network=none --security=insecure --device=vendor.com/gpu=all,required <<-EOF\n\techo hi\n\tEOF");
    expect(r).toMatchObject({
      form: "shell",
      command: "<<-EOF",
      network: "none",
      security: "insecure",
      devices: [{ name: "vendor.com/gpu=all", required: true }],
      heredocs: [{ name: "EOF", content: "echo hi\n", rawContent: "\techo hi\n", expand: true, chomp: true }],
    });
    const plain = one("RUN true");
    expect(plain.kind === "run" && [plain.network, plain.security]).toEqual([undefined, undefined]);
  });

  it("RUN --mount of every type with its options and defaults", () => {
    const r = one(
      [
        "RUN --mount=target=/src",
        "--mount=type=bind,source=/s,from=img:1,rw",
        "--mount=type=cache,target=/root/.cache,id=go,sharing=locked,mode=0700,uid=1000,gid=1000,ro=true",
        "--mount=type=tmpfs,dst=/tmp,size=64m",
        "--mount=type=secret,id=npmrc,target=/root/.npmrc,required,mode=0440",
        "--mount=type=secret,id=tok,env=TOKEN",
        "--mount=type=secret,source=aws",
        "--mount=type=ssh",
        "--mount=type=ssh,id=gh,target=/ssh.sock,required=false,uid=5 true",
      ].join(" "),
    );
    if (r.kind !== "run") throw new Error("not run");
    const strip = r.mounts.map(({ raw, hasVariables, ...m }) => (void raw, void hasVariables, m));
    expect(strip).toEqual([
      { type: "bind", target: "/src", readonly: true },
      { type: "bind", target: "", source: "/s", from: "img:1", readonly: false },
      { type: "cache", target: "/root/.cache", id: "go", sharing: "locked", readonly: true, mode: 0o700, uid: 1000, gid: 1000 },
      { type: "tmpfs", target: "/tmp", size: 64 * 1024 * 1024 },
      { type: "secret", id: "npmrc", target: "/root/.npmrc", required: true, mode: 0o440 },
      { type: "secret", id: "tok", env: "TOKEN", required: false },
      { type: "secret", id: "aws", target: "/run/secrets/aws", required: false },
      { type: "ssh", id: "default", required: false },
      { type: "ssh", id: "gh", target: "/ssh.sock", required: false, uid: 5 },
    ]);
    expect(r.mounts[0]).toMatchObject({ raw: "target=/src", hasVariables: false });
  });

  it("keeps mounts with variables unexpanded and marked", () => {
    const r = one("RUN --mount=type=cache,target=$DIR,id=${ID},uid=$UID true");
    expect(r.kind === "run" && r.mounts[0]).toMatchObject({ type: "cache", target: "$DIR", id: "${ID}", hasVariables: true });
  });

  it("CMD and ENTRYPOINT", () => {
    expect(one('CMD ["a", "b"]')).toMatchObject({ kind: "cmd", form: "exec", command: ["a", "b"] });
    expect(one("CMD a  b")).toMatchObject({ kind: "cmd", form: "shell", command: "a  b" });
    expect(one("CMD")).toMatchObject({ kind: "cmd", form: "shell", command: "" });
    expect(one("ENTRYPOINT []")).toMatchObject({ kind: "entrypoint", form: "exec", command: [] });
  });

  it("ENV and LABEL pairs, legacy form", () => {
    expect(one('ENV A=1 B="x y"')).toMatchObject({ kind: "env", pairs: [{ key: "A", value: "1" }, { key: "B", value: '"x y"' }], legacy: false });
    expect(one("ENV A 1 2 3")).toMatchObject({ kind: "env", pairs: [{ key: "A", value: "1 2 3" }], legacy: true });
    expect(one("LABEL a.b=c")).toMatchObject({ kind: "label", pairs: [{ key: "a.b", value: "c" }], legacy: false });
  });

  it("EXPOSE, VOLUME, USER, WORKDIR, STOPSIGNAL, SHELL, MAINTAINER, ARG", () => {
    expect(one("EXPOSE 80/tcp $P")).toMatchObject({ kind: "expose", ports: ["80/tcp", "$P"] });
    expect(one('VOLUME ["/a", "/b c"]')).toMatchObject({ kind: "volume", paths: ["/a", "/b c"] });
    expect(one("VOLUME /a /b")).toMatchObject({ kind: "volume", paths: ["/a", "/b"] });
    expect(one("USER app:app")).toMatchObject({ kind: "user", user: "app:app" });
    expect(one("WORKDIR /srv/$APP")).toMatchObject({ kind: "workdir", path: "/srv/$APP" });
    expect(one("STOPSIGNAL SIGKILL")).toMatchObject({ kind: "stopsignal", signal: "SIGKILL" });
    expect(one('SHELL ["pwsh", "-c"]')).toMatchObject({ kind: "shell", shell: ["pwsh", "-c"] });
    expect(one("MAINTAINER Jo <jo@x>")).toMatchObject({ kind: "maintainer", name: "Jo <jo@x>" });
    expect(one('ARG A B=2 C="x y"')).toMatchObject({ kind: "arg", args: [{ name: "A" }, { name: "B", default: "2" }, { name: "C", default: '"x y"' }] });
  });

  it("COPY and ADD with every flag", () => {
    const two = toStages(parseDockerfile("FROM a\nFROM b\nCOPY --from=0 --chown=1:2 --chmod=755 --link --parents --exclude=*.md --exclude=.git a b /dst/\n"));
    expect(two.stages[1].instructions[0]).toMatchObject({
      kind: "copy",
      sources: ["a", "b"],
      dest: "/dst/",
      from: "0",
      fromStage: 0,
      chown: "1:2",
      chmod: "755",
      link: true,
      parents: true,
      excludes: ["*.md", ".git"],
      heredocs: [],
      json: false,
    });
    expect(one("COPY --link=false a b")).toMatchObject({ link: false, parents: false, excludes: [] });
    const add = one("ADD --checksum=sha256:abc --keep-git-dir --unpack=false --link=TRUE https://x/y.tgz /opt/");
    expect(add).toMatchObject({ kind: "add", sources: ["https://x/y.tgz"], dest: "/opt/", checksum: "sha256:abc", keepGitDir: true, unpack: false, link: true });
    const plain = one("ADD a b");
    expect(plain.kind === "add" && [plain.keepGitDir, plain.unpack, plain.checksum]).toEqual([undefined, undefined, undefined]);
    expect(one('COPY ["a b", "/c d/"]')).toMatchObject({ sources: ["a b"], dest: "/c d/", json: true });
  });

  it("COPY heredocs become inline sources", () => {
    const c = one("COPY <<A <<'B' /etc/\nhello $X\nA\n\tliteral $Y\nB");
    expect(c).toMatchObject({
      kind: "copy",
      sources: [],
      dest: "/etc/",
      heredocs: [
        { name: "A", content: "hello $X\n", expand: true, chomp: false },
        { name: "B", content: "\tliteral $Y\n", expand: false, chomp: false },
      ],
    });
  });

  it("HEALTHCHECK", () => {
    expect(one("HEALTHCHECK NONE")).toMatchObject({ kind: "healthcheck", test: "NONE" });
    expect(one("HEALTHCHECK --interval=1m30s --timeout=2.5s --start-period=0s --start-interval=100ms --retries=5 CMD curl -f http://x/")).toMatchObject({
      test: ["CMD-SHELL", "curl -f http://x/"],
      interval: 90e9,
      timeout: 2.5e9,
      startInterval: 100e6,
      retries: 5,
    });
    const h = one('HEALTHCHECK CMD ["curl", "-f"]');
    expect(h).toMatchObject({ test: ["CMD", "curl", "-f"] });
    expect(h.kind === "healthcheck" && h.startPeriod).toBeUndefined();
  });

  it("ONBUILD keeps a typed trigger and the text stored in the image", () => {
    const o = one("ONBUILD RUN --mount=type=cache,target=/c make");
    expect(o).toMatchObject({ kind: "onbuild", triggerText: "RUN --mount=type=cache,target=/c make", trigger: { kind: "run", command: "make" } });
    const h = one("onbuild COPY <<EOF /x\nbody\nEOF");
    expect(h).toMatchObject({ triggerText: "COPY <<EOF /x\nbody\nEOF", trigger: { kind: "copy", heredocs: [{ name: "EOF", content: "body\n" }] } });
  });

  it("records range, line, text and original", () => {
    const r = one("  RUN a \\\n   b");
    expect(r).toMatchObject({ keyword: "RUN", line: 2, text: "RUN a \\\n   b", original: "RUN a    b", range: { start: { line: 2, column: 3 }, end: { line: 3, column: 5 } } });
  });
});

describe("parseInstructionLine", () => {
  it("parses ONBUILD triggers from an image config", () => {
    expect(parseInstructionLine("RUN echo hi")).toMatchObject({ kind: "run", command: "echo hi" });
    expect(parseInstructionLine("COPY --from=builder /a /b")).toMatchObject({ kind: "copy", from: "builder" });
    expect(parseInstructionLine("RUN <<EOF\necho hi\nEOF")).toMatchObject({ heredocs: [{ content: "echo hi\n" }] });
  });
  it("rejects more than one instruction, FROM and invalid triggers", () => {
    expect(() => parseInstructionLine("RUN a\nRUN b")).toThrow(/single expression/);
    expect(() => parseInstructionLine("FROM x")).toThrow(/FROM isn't allowed as an ONBUILD trigger/);
    expect(() => parseInstructionLine("RUN --bogus x")).toThrow(/unknown flag: --bogus/);
  });
});
