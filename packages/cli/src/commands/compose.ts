// `tbuild compose build|up|down|ps|logs`: `docker compose` on tbuild's builder and runtime.

import { type Command, Option } from "commander";
import { progressModes } from "../progress/renderer.js";
import { collect, lazyAction } from "../program-kit.js";

/** Declares `compose` and its subcommands: build, up, down, ps, logs. */
export function defineComposeCommand(program: Command): void {
  const compose = program
    .command("compose")
    .description("build and run the services of a compose file")
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
  lazyAction(
    compose
      .command("up")
      .description("create and start the services' containers (building what needs it) in depends_on order")
      .argument("[services...]", "only these services (and what they depend on)")
      .option("-d, --detach", "start the containers and return")
      .option("--build", "build every service that has a build section first")
      .addOption(new Option("--progress <mode>", "progress output of builds").choices([...progressModes]).default("auto"))
      .option("-q, --quiet", "print nothing from builds but errors")
      .addHelpText("after", `
Examples:
  tbuild compose up -d --build
  tbuild compose up web`),
    () => import("../actions/compose-up.js"),
  );
  lazyAction(
    compose
      .command("down")
      .description("stop and remove the project's containers and networks")
      .option("-v, --volumes", "also remove the named volumes of the compose file and the containers' anonymous volumes")
      .option("-t, --timeout <seconds>", "seconds to wait for each container to stop before SIGKILL"),
    () => import("../actions/compose-down.js"),
  );
  lazyAction(
    compose.command("ps").description("list the project's containers").option("-a, --all", "also stopped ones").option("-q, --quiet", "only IDs"),
    () => import("../actions/compose-ps.js"),
  );
  lazyAction(
    compose.command("logs").description("print the output of the project's containers").argument("[services...]", "only these services").option("-f, --follow", "keep printing new output"),
    () => import("../actions/compose-logs.js"),
  );
}
