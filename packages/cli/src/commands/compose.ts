// `tbuild compose build`: the build half of `docker compose`.

import { type Command, Option } from "commander";
import { progressModes } from "../progress/renderer.js";
import { collect, lazyAction } from "../program-kit.js";

/** Declares `compose` and its `build` subcommand. */
export function defineComposeCommand(program: Command): void {
  const compose = program
    .command("compose")
    .description("build the services of a compose file")
    .option("-f, --file <file>", "compose file (default: compose.yaml, compose.yml, docker-compose.yaml or docker-compose.yml in this directory or a parent)")
    .option("-p, --project-name <name>", "project name (default: the compose file's directory name)")
    .option("--env-file <file>", "variables for interpolation (default: .env beside the compose file)");
  const build = compose
    .command("build")
    .description("build every service that has a build section, concurrently")
    .argument("[services...]", "only these services")
    .option("--build-arg <key[=value]>", "set a build-time variable for every service; repeatable", collect)
    .option("--no-cache", "do not use the layer cache")
    .addOption(new Option("--progress <mode>", "progress output").choices([...progressModes]).default("auto"))
    .option("-q, --quiet", "print nothing but errors")
    .option("--push", "push each service's image after building it")
    .option("--explain-cache", "after the builds, print each service's steps with their cache result (see build --explain-cache)")
    .addHelpText("after", `
Examples:
  tbuild compose build
  tbuild compose -f deploy/compose.yaml build web worker`);
  lazyAction(build, () => import("../actions/compose-build.js"));
}
