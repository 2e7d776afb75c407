import { describe, expect, it } from "vitest";
import { CommandError } from "../errors.js";
import { step } from "../progress/fake-events.test-util.js";
import { FailureCollector } from "./build-failure.js";
import { dockerfileExcerpt } from "./dockerfile-excerpt.js";

const dockerfile = ["FROM base", "WORKDIR /app", "COPY . .", "RUN make \\", "    install", "CMD [\"app\"]", "USER app", ""].join("\n");

describe("dockerfileExcerpt", () => {
  it("marks the failing instruction with its continuation lines, two lines of context each side", () => {
    expect(dockerfileExcerpt(dockerfile, 4, "Dockerfile")).toBe(
      [
        "Dockerfile:4-5",
        "--------------------",
        "   2 |     WORKDIR /app",
        "   3 |     COPY . .",
        "   4 | >>> RUN make \\",
        "   5 | >>>     install",
        "   6 |     CMD [\"app\"]",
        "   7 |     USER app",
        "--------------------",
      ].join("\n"),
    );
  });
  it("clips context at the file's start", () => {
    expect(dockerfileExcerpt(dockerfile, 1)?.split("\n").slice(0, 5)).toEqual([
      "Dockerfile:1",
      "--------------------",
      "   1 | >>> FROM base",
      "   2 |     WORKDIR /app",
      "   3 |     COPY . .",
    ]);
  });
  it("follows the escape directive", () => {
    const text = "# escape=`\nFROM base\nRUN dir `\n  c:\\\nUSER x\n";
    expect(dockerfileExcerpt(text, 3, "Dockerfile", 0)).toContain("   3 | >>> RUN dir `\n   4 | >>>   c:\\");
  });
  it("returns undefined for a line outside the file", () => {
    expect(dockerfileExcerpt(dockerfile, 99)).toBeUndefined();
  });
});

describe("FailureCollector", () => {
  it("reports the failed step's last output, the excerpt and the exit code", () => {
    const c = new FailureCollector();
    const run = step("s0.3", { index: 3, total: 5, instruction: "RUN make \\\n    install", line: 4 });
    c.event({ type: "build-start", stages: [{ name: "0", index: 0, steps: 5 }], time: 0 });
    c.event({ type: "step-start", step: run, time: 0 });
    for (let i = 1; i <= 20; i++) c.event({ type: "step-log", step: run, stream: "stderr", data: `line ${i}\n`, time: i });
    c.event({ type: "step-log", step: run, stream: "stderr", data: "make: *** [all] Error 2", time: 21 });
    c.event({ type: "step-error", step: run, message: "exit code 2", time: 22 });
    const err = Object.assign(new Error('process "/bin/sh -c make install" did not complete successfully'), { exitCode: 2 });
    const out = c.describe(err, { name: "Dockerfile", text: dockerfile });
    expect(out).toBeInstanceOf(CommandError);
    const ce = out as CommandError;
    expect(ce.message).toBe('process "/bin/sh -c make install" did not complete successfully: exit code: 2');
    const detail = ce.detail!.split("\n");
    expect(detail[0]).toBe("------");
    expect(detail[1]).toBe(" > [4/6] RUN make install:");
    expect(detail.slice(2, 14)).toEqual([...Array.from({ length: 11 }, (_, i) => `line ${i + 10}`), "make: *** [all] Error 2"]);
    expect(detail[14]).toBe("------");
    expect(detail).toContain("   4 | >>> RUN make \\");
  });

  it("passes self-formatting errors (DockerfileSyntaxError) through untouched", () => {
    const c = new FailureCollector();
    const err = Object.assign(new Error("syntax"), { format: () => "Dockerfile:1:1: bad" });
    expect(c.describe(err, undefined)).toBe(err);
  });

  it("still gives a one-line error when no step failed", () => {
    const c = new FailureCollector();
    const out = c.describe(new Error("base image nope:1 not found"), { name: "Dockerfile", text: dockerfile }, "web") as CommandError;
    expect(out.message).toBe("web: base image nope:1 not found");
    expect(out.detail).toBeUndefined();
  });
});
