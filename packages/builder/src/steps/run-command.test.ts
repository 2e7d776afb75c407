import { describe, expect, it } from "vitest";
import { buildRunCommand, runHistory } from "./run-command.js";

describe("RUN argv and history", () => {
  it("wraps shell form in the shell and keeps exec form", () => {
    expect(buildRunCommand("shell", "echo hi", [], undefined).argv).toEqual(["/bin/sh", "-c", "echo hi"]);
    expect(buildRunCommand("shell", "echo hi", [], ["/bin/bash", "-ec"]).argv).toEqual(["/bin/bash", "-ec", "echo hi"]);
    expect(buildRunCommand("exec", ["echo", "hi"], [], undefined).argv).toEqual(["echo", "hi"]);
  });
  it("runs a lone heredoc body in the shell, or as a script with a shebang", () => {
    expect(buildRunCommand("shell", "<<EOF", [{ name: "EOF", content: "echo a\necho b\n", chomp: false }], undefined).argv)
      .toEqual(["/bin/sh", "-c", "echo a\necho b\n"]);
    const s = buildRunCommand("shell", "<<EOF", [{ name: "EOF", content: "#!/usr/bin/env python3\nprint(1)\n", chomp: false }], undefined);
    expect(s.argv).toEqual(["/dev/pipes/EOF"]);
    expect(s.script?.content).toContain("print(1)");
  });
  it("re-joins heredocs onto a command for the shell", () => {
    expect(buildRunCommand("shell", "cat <<EOF > /x", [{ name: "EOF", content: "hello\n", chomp: false }], undefined).argv)
      .toEqual(["/bin/sh", "-c", "cat <<EOF > /x\nhello\nEOF"]);
  });
  it("words history like BuildKit", () => {
    expect(runHistory(["/bin/sh", "-c", "make"], [])).toBe("RUN /bin/sh -c make # buildkit");
    expect(runHistory(["/bin/sh", "-c", "make"], [{ name: "A", value: "1" }, { name: "B", value: "" }]))
      .toBe("RUN |2 A=1 B= /bin/sh -c make # buildkit");
  });
});
