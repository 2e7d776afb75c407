import { describe, expect, it } from "vitest";
import { parseDockerfile } from "../lexer/parser.js";
import { toStages } from "../ir/stages.js";
import { parseCheckOptions } from "./check-config.js";

const warnings = (src: string) => toStages(parseDockerfile(src)).warnings.map((w) => [w.rule, w.line, w.message]);

describe("build checks", () => {
  it("NoEmptyContinuation, MaintainerDeprecated, LegacyKeyValueFormat", () => {
    expect(warnings("FROM a\nRUN a \\\n\nb\nMAINTAINER me\nENV A 1\nlabel b c\n")).toEqual([
      ["NoEmptyContinuation", 4, "Empty continuation line"],
      ["MaintainerDeprecated", 5, "Maintainer instruction is deprecated in favor of using label"],
      ["LegacyKeyValueFormat", 6, '"ENV key=value" should be used instead of legacy "ENV key value" format'],
      ["ConsistentInstructionCasing", 7, "Command 'label' should match the case of the command majority (uppercase)"],
      ["LegacyKeyValueFormat", 7, '"label key=value" should be used instead of legacy "label key value" format'],
    ]);
  });

  it("StageNameCasing, FromAsCasing, ReservedStageName", () => {
    expect(warnings("FROM a AS Build\nFROM b as c\nfrom c AS d\nFROM e AS scratch\n")).toEqual([
      ["StageNameCasing", 1, "Stage name 'Build' should be lowercase"],
      ["FromAsCasing", 2, "'as' and 'FROM' keywords' casing do not match"],
      ["ConsistentInstructionCasing", 3, "Command 'from' should match the case of the command majority (uppercase)"],
      ["FromAsCasing", 3, "'AS' and 'from' keywords' casing do not match"],
      ["ReservedStageName", 4, 'Stage name should not use the same name as reserved stage "scratch"'],
    ]);
  });

  it("JSONArgsRecommended unless a SHELL is set (also in the parent stage)", () => {
    expect(warnings("FROM a AS b\nCMD run\nENTRYPOINT [\"x\"]\nFROM a\nSHELL [\"sh\", \"-c\"]\nCMD run\nFROM b\nENTRYPOINT run\n")).toEqual([
      ["JSONArgsRecommended", 2, "JSON arguments recommended for CMD to prevent unintended behavior related to OS signals"],
      ["JSONArgsRecommended", 8, "JSON arguments recommended for ENTRYPOINT to prevent unintended behavior related to OS signals"],
    ]);
  });

  it("MultipleInstructionsDisallowed at the instruction that has no effect", () => {
    expect(warnings('FROM a\nCMD ["a"]\nHEALTHCHECK NONE\nCMD ["b"]\nHEALTHCHECK NONE\n')).toEqual([
      ["MultipleInstructionsDisallowed", 2, "Multiple CMD instructions should not be used in the same stage because only the last one will be used"],
      ["MultipleInstructionsDisallowed", 3, "Multiple HEALTHCHECK instructions should not be used in the same stage because only the last one will be used"],
    ]);
  });

  it("WorkdirRelativePath, SecretsUsedInArgOrEnv, EXPOSE format", () => {
    expect(warnings("FROM a\nWORKDIR app\nWORKDIR sub\nARG GITHUB_TOKEN PUBLIC_KEY\nENV DB_PASSWORD=x\nEXPOSE 80/TCP 127.0.0.1:80:80\n")).toEqual([
      ["WorkdirRelativePath", 2, 'Relative workdir "app" can have unexpected results if the base image changes'],
      ["SecretsUsedInArgOrEnv", 4, 'Do not use ARG or ENV instructions for sensitive data (ARG "GITHUB_TOKEN")'],
      ["SecretsUsedInArgOrEnv", 5, 'Do not use ARG or ENV instructions for sensitive data (ENV "DB_PASSWORD")'],
      ["ExposeProtoCasing", 6, "Defined protocol '80/TCP' in EXPOSE instruction should be lowercase"],
      ["ExposeInvalidFormat", 6, "EXPOSE instruction should not define an IP address or host-port mapping, found '127.0.0.1:80:80'"],
    ]);
  });

  it("checks FROM lines: undeclared ARGs, invalid defaults, constant and redundant platforms", () => {
    expect(warnings("ARG IMG=\nFROM ${IMG}\nFROM $VERSON\nFROM --platform=linux/amd64 a AS x\nFROM --platform=$TARGETPLATFORM a\nFROM --platform=linux/arm64 a AS build-arm64\n")).toEqual([
      ["InvalidDefaultArgInFrom", 2, "Default value for ARG ${IMG} results in empty or invalid base image name"],
      ["UndefinedArgInFrom", 3, "FROM argument 'VERSON' is not declared"],
      ["InvalidDefaultArgInFrom", 3, "Default value for ARG $VERSON results in empty or invalid base image name"],
      ["FromPlatformFlagConstDisallowed", 4, 'FROM --platform flag should not use constant value "linux/amd64"'],
      ["RedundantTargetPlatform", 5, "Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior"],
    ]);
    expect(warnings("ARG VERSION=1\nFROM a:$VERSOIN\n")[0]).toEqual(["UndefinedArgInFrom", 2, "FROM argument 'VERSOIN' is not declared (did you mean VERSION?)"]);
  });

  it("honours # check=skip and per-instruction check comments", () => {
    const src = "# check=skip=MaintainerDeprecated,JSONArgsRecommended\nFROM a\nMAINTAINER me\nCMD x\n# check=skip=LegacyKeyValueFormat\nENV A 1\nENV B 2\n";
    const ir = toStages(parseDockerfile(src));
    expect(ir.checks).toEqual({ skip: ["MaintainerDeprecated", "JSONArgsRecommended"], error: false });
    expect(ir.warnings.map((w) => [w.rule, w.line])).toEqual([["LegacyKeyValueFormat", 7]]);
    expect(toStages(parseDockerfile("# check=skip=all;error=true\nFROM a\nMAINTAINER me\n"))).toMatchObject({ warnings: [], checks: { skip: "all", error: true } });
  });

  it("exposes check=error=true and keeps warning details", () => {
    const ir = toStages(parseDockerfile("# check=error=true\nFROM a\nMAINTAINER me\n"));
    expect(ir.checks.error).toBe(true);
    expect(ir.warnings[0]).toMatchObject({
      rule: "MaintainerDeprecated",
      url: "https://docs.docker.com/go/dockerfile/rule/maintainer-deprecated/",
      range: { start: { line: 3, column: 1 } },
    });
  });
});

describe("check options", () => {
  it("parses skip lists, all, and error booleans", () => {
    expect(parseCheckOptions("skip=A, B;error=1")).toEqual({ skip: ["A", "B"], error: true });
    expect(parseCheckOptions("")).toEqual({ skip: [], error: false });
    expect(parseCheckOptions("experimental=all;skip=all")).toEqual({ skip: "all", error: false });
    expect(() => parseCheckOptions("error=maybe")).toThrow(/invalid boolean/);
    expect(() => parseCheckOptions("skip")).toThrow(/invalid check option "skip"/);
  });
});
