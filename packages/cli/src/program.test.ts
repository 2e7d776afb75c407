import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { COMMAND_GROUPS } from "./command-word.js";
import { createProgram } from "./program.js";

const GROUPS: readonly (readonly string[])[] = Object.values(COMMAND_GROUPS);

const names = (argv?: string[]) => createProgram(() => "test", argv).commands.map((c) => c.name());

describe("createProgram", () => {
  it("declares every group's commands, in order, when no command is named", () => {
    expect(names()).toEqual(GROUPS.flat());
    expect(names()).toContain("build");
    expect(names([])).toEqual(names());
  });

  it("declares only the group of the command a command line names", () => {
    // Each group alone declares exactly the names the table gives it (a command added to a
    // definer but not to the table would otherwise be missing when its group is chosen).
    for (const group of GROUPS) {
      for (const name of group) expect(names(["--root", "/r", name])).toEqual(group);
    }
    expect(names(["--debug", "--root=/r", "push", "x"])).toEqual(GROUPS.find((g) => g.includes("push")));
  });

  it("keeps the whole tree where commander must see it: options first, operands, help", () => {
    const all = names();
    expect(names(["-t", "app", "."])).toEqual(all); // `tbuild [build options] CONTEXT`
    expect(names(["--tag", "images", "."])).toEqual(all); // an option's value is no command
    expect(names(["."])).toEqual(all);
    expect(names(["help", "build"])).toEqual(all);
    expect(names(["--help"])).toEqual(all);
    expect(names(["biuld"])).toEqual(all); // suggestions need every name
  });

  it("a reduced tree still has the global options and the default build command", () => {
    const p = createProgram(() => "test", ["build", "."]);
    expect(p.options.map((o) => o.long)).toEqual(expect.arrayContaining(["--root", "--userns", "--debug"]));
    expect((p as Command & { _defaultCommandName?: string })._defaultCommandName).toBe("build");
  });
});
