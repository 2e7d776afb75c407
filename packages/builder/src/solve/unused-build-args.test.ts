import { describe, expect, it } from "vitest";
import { parseDockerfile, planStages, toStages } from "@tbuild/parser";
import { unusedBuildArgs, unusedBuildArgsMessage } from "./unused-build-args.js";

const ir = (text: string) => toStages(parseDockerfile(text, { file: "Dockerfile" }));

describe("unusedBuildArgs", () => {
  const df = ir("ARG BASE=busybox\nFROM $BASE AS a\nARG A_ONLY\nFROM busybox AS b\nARG B_ONLY\nRUN echo $B_ONLY\n");

  it("reports args no global ARG and no ARG of the built stages declares", () => {
    const args = ["BASE", "A_ONLY", "B_ONLY", "TYPO", "HTTP_PROXY", "TARGETARCH", "SOURCE_DATE_EPOCH", "BUILDKIT_INLINE_CACHE"];
    expect(unusedBuildArgs(df, planStages(df, "b"), args)).toEqual(["A_ONLY", "TYPO"]);
    expect(unusedBuildArgs(df, planStages(df, "a"), args)).toEqual(["B_ONLY", "TYPO"]);
    expect(unusedBuildArgs(df, [0, 1], ["BASE", "A_ONLY", "B_ONLY"])).toEqual([]);
  });

  it("words the warning as Docker does", () => {
    expect(unusedBuildArgsMessage(["A", "B"])).toBe("One or more build-args [A B] were not consumed");
  });
});
