// `tbuild volume …`: named volumes in the store (Docker's local driver).

import { type Command, Option } from "commander";
import { collect, lazyAction } from "../program-kit.js";

export function defineVolumeCommands(program: Command): void {
  const volume = program.command("volume").description("manage volumes");
  const load = () => import("../actions/volume.js");
  lazyAction(
    volume.command("create").description("create a volume").argument("[name]", "volume name (default: a random ID)")
      .option("-d, --driver <driver>", "volume driver (only local)", "local")
      .option("-o, --opt <key=value>", "driver options (none are supported by the local driver here); repeatable", collect)
      .option("--label <key=value>", "set a label; repeatable", collect),
    load,
  );
  lazyAction(
    volume.command("ls").description("list volumes").option("-q, --quiet", "only print names")
      .addOption(new Option("--format <format>", "output format").choices(["table", "json"]).default("table")),
    load,
  );
  lazyAction(volume.command("inspect").description("show volumes as JSON").argument("<names...>", "volume names"), load);
  lazyAction(volume.command("rm").description("remove volumes (refused while a container uses one)").argument("<names...>", "volume names").option("-f, --force", "no error for a volume that does not exist"), load);
  lazyAction(
    volume.command("prune").description("remove anonymous volumes no container uses (-a: named ones too)")
      .option("-a, --all", "also remove unused named volumes").option("-f, --force", "do not ask for confirmation"),
    load,
  );
}
