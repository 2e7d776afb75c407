import { describe, expect, it } from "vitest";
import { parseDockerfile } from "./parser.js";
import { parseHeredocWord } from "./heredoc.js";
import { dumpBuildkit } from "../dump.js";
import { DockerfileSyntaxError } from "../errors.js";

describe("heredoc words", () => {
  it.each([
    ["<<EOF", { name: "EOF", expand: true, chomp: false }],
    ["<<-EOF", { name: "EOF", expand: true, chomp: true }],
    ["<<'EOF'", { name: "EOF", expand: false, chomp: false }],
    ['<<"EOF"', { name: "EOF", expand: false, chomp: false }],
    ['<<EO"F"', { name: "EOF", expand: false, chomp: false }],
    ["<<  EOF", { name: "EOF", expand: true, chomp: false }],
    ["<<'one two'", { name: "one two", expand: false, chomp: false }],
    ["<<$EOF", { name: "$EOF", expand: true, chomp: false }],
    ["3<<FILE", { name: "FILE", expand: true, chomp: false, fd: 3 }],
    ["12<<-'X'", { name: "X", expand: false, chomp: true, fd: 12 }],
  ])("%s", (word, expected) => {
    expect(parseHeredocWord(word)).toEqual(expected);
  });
  it.each(["<<", "<<-", "x<<EOF", "<<EOF<<X", "<", "EOF"])("%s is not a heredoc", (word) => {
    expect(parseHeredocWord(word)).toBeUndefined();
  });
});

describe("heredoc extraction", () => {
  it("reads the body of a RUN heredoc and keeps the line for the dump", () => {
    const df = parseDockerfile("FROM alpine\nRUN <<EOF bash\necho hi\necho $X\nEOF\nRUN true\n");
    expect(df.instructions).toHaveLength(3);
    const run = df.instructions[1];
    expect(run.args).toEqual(["<<EOF bash"]);
    expect(run.heredocs).toEqual([{ name: "EOF", content: "echo hi\necho $X\n", expand: true, chomp: false }]);
    expect(run.range).toEqual({ start: { line: 2, column: 1 }, end: { line: 5, column: 4 } });
    expect(run.text).toBe("RUN <<EOF bash\necho hi\necho $X\nEOF");
  });

  it("reads several heredocs in order", () => {
    const df = parseDockerfile("FROM a\nCOPY <<A <<'B' /dst/\na1\nA\nb1\nb2\nB\n");
    const copy = df.instructions[1];
    expect(copy.args).toEqual(["<<A", "<<'B'", "/dst/"]);
    expect(copy.heredocs.map((h) => [h.name, h.content, h.expand])).toEqual([
      ["A", "a1\n", true],
      ["B", "b1\nb2\n", false],
    ]);
  });

  it("<<- matches a tab-indented delimiter and keeps the tabs in the raw body", () => {
    const df = parseDockerfile("FROM alpine\nRUN <<-EOT\n\techo a\n\tEOT\n");
    expect(df.instructions[1].heredocs[0]).toEqual({ name: "EOT", content: "\techo a\n", expand: true, chomp: true });
  });

  it("keeps CRLF endings in the body and matches the delimiter before them", () => {
    const df = parseDockerfile("FROM a\r\nRUN <<EOF\r\nx\r\nEOF\r\n");
    expect(df.instructions[1].heredocs[0].content).toBe("x\r\n");
  });

  it("handles ONBUILD wrapping a heredoc instruction (example D of FORMAT.md)", () => {
    const src = "FROM alpine\nRUN <<EOF bash\necho hi\nEOF\nONBUILD COPY <<-\"X\" /x\n\tbody\n\tX\n";
    const df = parseDockerfile(src);
    expect(dumpBuildkit(df)).toBe('(from "alpine")\n(run "<<EOF bash")\n(onbuild (copy "<<-\\"X\\"" "/x"))');
    expect(df.instructions[2].heredocs).toEqual([{ name: "X", content: "\tbody\n", expand: false, chomp: true }]);
  });

  it("ignores heredocs in exec form and in other instructions", () => {
    const df = parseDockerfile('FROM a\nRUN ["cat", "<<EOF"]\nCMD cat <<EOF\nEOF\n');
    expect(df.instructions.map((n) => n.heredocs.length)).toEqual([0, 0, 0, 0]);
    expect(df.instructions[3].keyword).toBe("EOF");
  });

  it("does not take `<<EOF` glued to other text as a heredoc", () => {
    const df = parseDockerfile("FROM a\nRUN echo x<<EOF\n");
    expect(df.instructions[1].heredocs).toEqual([]);
  });

  it("fails on an unterminated heredoc with the instruction's location", () => {
    try {
      parseDockerfile("FROM a\n  RUN <<EOF\nbody\n");
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DockerfileSyntaxError);
      const err = e as DockerfileSyntaxError;
      expect(err.reason).toBe("unterminated heredoc");
      expect([err.line, err.column]).toEqual([2, 3]);
    }
  });

  it("uses backslash for heredoc words even with the backtick escape", () => {
    const df = parseDockerfile("# escape=`\nFROM a\nRUN <<E\\OF\nx\nEOF\n");
    expect(df.instructions[1].heredocs[0].name).toBe("EOF");
  });
});
