import { describe, expect, it } from "vitest";
import { parseDockerfile } from "./parser.js";
import { parseWords } from "./words.js";
import { dumpBuildkit } from "../dump.js";
import { DockerfileSyntaxError } from "../errors.js";

function parseError(src: string): DockerfileSyntaxError {
  try {
    parseDockerfile(src);
  } catch (e) {
    if (e instanceof DockerfileSyntaxError) return e;
    throw e;
  }
  throw new Error("expected a DockerfileSyntaxError");
}

describe("empty continuation lines", () => {
  it("warns once per instruction that has blank lines inside a continuation", () => {
    const src = "FROM a\nRUN echo \\\n\n  hi\nRUN a \\\n   \nb \\\n\nc\nRUN x \\\n# comment\ny\n";
    const df = parseDockerfile(src);
    expect(df.warnings).toHaveLength(2);
    expect(df.warnings[0].rule).toBe("NoEmptyContinuation");
    expect(df.warnings[0].message).toBe("Empty continuation line found in: RUN echo   hi");
    expect(df.warnings[0].line).toBe(4);
    expect(df.warnings[1].message).toBe("Empty continuation line found in: RUN a b c");
    expect(df.warnings[1].line).toBe(9);
    expect(dumpBuildkit(df)).toBe('(from "a")\n(run "echo   hi")\n(run "a b c")\n(run "x y")');
  });
});

describe("physical lines", () => {
  it("rejects a line of 65536 bytes or more", () => {
    const long = "RUN " + "x".repeat(65532); // 65536 bytes
    const err = parseError(`FROM a\n${long}\n`);
    expect(err.reason).toBe("dockerfile line greater than max allowed size of 65535");
    expect(err.line).toBe(2);
  });
  it("accepts a line of 65535 bytes, counting UTF-8 bytes", () => {
    expect(parseDockerfile(`FROM a\nRUN ${"x".repeat(65531)}\n`).instructions).toHaveLength(2);
    // 21845 three-byte characters = 65535 bytes; one more ASCII byte crosses the limit.
    expect(parseDockerfile(`${"한".repeat(21845)}`).instructions).toHaveLength(1);
    expect(() => parseDockerfile(`${"한".repeat(21845)}x`)).toThrow(/max allowed size/);
  });
  it("strips a UTF-8 BOM and CRLF line endings", () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode("FROM a\r\nRUN b \\\r\n  c\r\n")]);
    const df = parseDockerfile(bytes);
    expect(dumpBuildkit(df)).toBe('(from "a")\n(run "b   c")');
    expect(df.instructions[0].range.start).toEqual({ line: 1, column: 1 });
  });
  it("keeps a lone CR inside a line", () => {
    const df = parseDockerfile("FROM a\rb\nRUN a\rb\n");
    expect(df.instructions[0].args).toEqual(["a", "b"]); // \r separates FROM arguments
    expect(df.instructions[1].args).toEqual(["a\rb"]);
  });
  it("rejects empty and comment-only files", () => {
    expect(parseError("").reason).toBe("file with no instructions");
    expect(parseError("# just a comment\n\n   \n").reason).toBe("file with no instructions");
  });
  it("records ranges and the exact source text", () => {
    const df = parseDockerfile("FROM a\n\n  RUN echo \\\n    hi\t\n");
    const run = df.instructions[1];
    expect(run.range).toEqual({ start: { line: 3, column: 3 }, end: { line: 4, column: 8 } });
    expect(run.text).toBe("RUN echo \\\n    hi\t");
    expect(run.original).toBe("RUN echo     hi\t");
  });
  it("attaches the comments directly above an instruction", () => {
    const df = parseDockerfile("FROM a\n# first\n# second\nRUN x\nRUN y\n");
    expect(df.instructions[1].comments).toEqual(["first", "second"]);
    expect(df.instructions[2].comments).toEqual([]);
  });
});

describe("parser directives", () => {
  it("reads syntax, escape and check at the top, case-insensitively", () => {
    const df = parseDockerfile("# syntax=docker/dockerfile:1\n#ESCAPE = `\n# check=skip=all\nFROM a\nRUN b `\n  c\n");
    expect(df.directives.map((d) => [d.name, d.value, d.line])).toEqual([
      ["syntax", "docker/dockerfile:1", 1],
      ["escape", "`", 2],
      ["check", "skip=all", 3],
    ]);
    expect(df.syntax).toBe("docker/dockerfile:1");
    expect(df.escapeToken).toBe("`");
    expect(dumpBuildkit(df)).toBe('(from "a")\n(run "b   c")');
  });
  it("stops at the first non-directive line", () => {
    const df = parseDockerfile("# hello\n# escape=`\nFROM a\n");
    expect(df.directives).toEqual([]);
    expect(df.escapeToken).toBe("\\");
    expect(parseDockerfile("\n# escape=`\nFROM a\n").escapeToken).toBe("\\");
  });
  it("rejects a repeated directive and an invalid escape character", () => {
    const dup = parseError("# escape=\\\n# escape=`\nFROM a\n");
    expect(dup.reason).toBe("only one escape parser directive can be used");
    expect(dup.line).toBe(2);
    expect(parseError("# escape=x\nFROM a\n").reason).toMatch(/invalid escape token 'x'/);
  });
});

describe("instruction shapes", () => {
  it("rejects a JSON array with non-string elements", () => {
    const err = parseError('FROM a\nCMD ["a", 1]\n');
    expect(err.reason).toBe("when using JSON array syntax, arrays must be comprised of strings only");
    expect([err.line, err.column]).toEqual([2, 1]);
  });
  it("falls back to shell form when JSON is not valid (or a number overflows float64)", () => {
    const df = parseDockerfile("FROM a\nCMD [1e400]\nRUN ['a']\n");
    expect(df.instructions[1].args).toEqual(["[1e400]"]);
    expect(df.instructions[1].json).toBe(false);
    expect(df.instructions[2].args).toEqual(["['a']"]);
  });
  it("marks exec form", () => {
    const df = parseDockerfile('FROM a\nCMD ["a"]\nCMD a\n');
    expect([df.instructions[1].json, df.instructions[2].json]).toEqual([true, false]);
  });
  it("requires a value for legacy ENV", () => {
    expect(parseError("FROM a\nENV PATH\n").reason).toBe("ENV must have two arguments");
    expect(parseError("FROM a\nLABEL a=b c\n").reason).toMatch(/can't find = in "c"/);
  });
  it("nests arbitrarily deep ONBUILD chains without exhausting the stack", () => {
    // Continuations make a logical line longer than the 64 KiB physical-line limit.
    const df = parseDockerfile("FROM a\n" + "ONBUILD \\\n".repeat(20000) + "RUN x\n");
    let depth = 0;
    for (let n = df.instructions[1]; n.child; n = n.child) depth++;
    expect(depth).toBe(20000);
    expect(dumpBuildkit(df).endsWith('(run "x")' + ")".repeat(20000))).toBe(true);
  });
});

describe("parseWords (ARG/ENV/LABEL splitter)", () => {
  const bs = 0x5c;
  it("keeps an escaped space in the word", () => {
    expect(parseWords("foo\\ bar", bs)).toEqual(["foo\\ bar"]);
  });
  it("keeps quotes", () => {
    expect(parseWords("'abc xyz' x", bs)).toEqual(["'abc xyz'", "x"]);
    expect(parseWords('name="a\\"b" ""', bs)).toEqual(['name="a\\"b"', '""']);
  });
  it("handles UTF-8 text and Unicode white space", () => {
    expect(parseWords("안녕\u3000하세요 ☥", bs)).toEqual(["안녕", "하세요", "☥"]);
  });
  it("drops a trailing escape character", () => {
    expect(parseWords("a b\\", bs)).toEqual(["a", "b"]);
  });
});

describe("directives after a shebang", () => {
  it("finds syntax and check below a #! line, but not escape", () => {
    const df = parseDockerfile("#!/usr/bin/env buildctl\n# syntax=docker/dockerfile:1.7\n# check=error=true\n# escape=`\nFROM a\n");
    expect(df.syntax).toBe("docker/dockerfile:1.7");
    expect(df.directives.map((d) => [d.name, d.line])).toEqual([["syntax", 2], ["check", 3]]);
    expect(df.escapeToken).toBe("\\");
  });
});
