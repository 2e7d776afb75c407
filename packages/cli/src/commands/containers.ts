// Running images: `run`, and containers as objects (ps, logs, stop, start, kill, rm, exec,
// container inspect). Every action loads @tbuild/runtime when it runs, never before.

import { type Command, Option } from "commander";
import { allowEmptyValue, collect, lazyAction, optionsStopAtFirstOperand } from "../program-kit.js";

/** Declares run, ps, logs, stop, start, kill, rm, exec, commit and container inspect/prune. */
export function defineContainerCommands(program: Command): void {
  const run = program
    .command("run")
    .description("run a command in a new container")
    .argument("<image>", "image name or ID (a name not in the local store is pulled, see --pull)")
    .argument("[command...]", "command and arguments (default: the image's Entrypoint and Cmd)")
    .option("-d, --detach", "run in the background under a monitor process and print the container ID")
    .option("-i, --interactive", "keep stdin open: the container reads this command's stdin")
    .option("-t, --tty", "give the container a terminal")
    .option("--rm", "remove the container (and its anonymous volumes) when it exits")
    .option("--name <name>", "container name (default: a generated one)")
    .option("-e, --env <key[=value]>", "set an environment variable (KEY alone takes this environment's value); repeatable", collect)
    .option("--env-file <file>", "read environment variables from a file; repeatable", collect)
    .option("-w, --workdir <dir>", "working directory inside the container")
    .option("-u, --user <user[:group]>", "user (name or uid) and optionally group")
    .option("--entrypoint <command>", "override the image's entrypoint (\"\" clears it)")
    .option("--hostname <name>", "container host name (default: the short container ID)")
    .option("-v, --volume <src:dst[:ro]>", "bind mount a host path (/abs or ./rel), mount a named volume (name:/dst) or an anonymous one (/dst); repeatable", collect)
    .option("--mount <spec>", "type=bind|volume|tmpfs,source=…,target=…[,readonly][,volume-nocopy][,tmpfs-size=…][,tmpfs-mode=…]; repeatable", collect)
    .option("--tmpfs <dst[:size=…,mode=…]>", "mount a tmpfs; repeatable", collect)
    .option("--network <network>", "none, host, bridge (default) or a network made with 'tbuild network create'", "bridge")
    .option("--network-alias <name>", "another name of the container on a user-defined network; repeatable", collect)
    .option("-p, --publish <[ip:]host:container[/proto]>", "publish a container port on the host (default address 0.0.0.0); repeatable", collect)
    .option("--read-only", "mount the container's root filesystem read-only")
    .option("--restart <policy>", "no, on-failure[:max-retries], always or unless-stopped (with -d)", "no")
    .option("--stop-timeout <seconds>", "seconds 'stop' waits before SIGKILL (default 10)")
    .option("-l, --label <key=value>", "set a container label; repeatable", collect)
    .option("--pull <policy>", "missing (pull an image the store lacks), always or never", "missing")
    .option("-q, --quiet", "do not report pulling")
    .addHelpText("after", `
Examples:
  tbuild run --rm busybox echo hello
  tbuild run -it --rm busybox sh
  tbuild run -d --name web -p 127.0.0.1:8080:80 -v ./site:/www:ro busybox httpd -f -h /www
  tbuild run --rm --network none -v data:/data busybox sh -c 'date > /data/stamp'`);
  lazyAction(allowEmptyValue(optionsStopAtFirstOperand(run), "entrypoint"), () => import("../actions/run.js"));

  lazyAction(
    program
      .command("ps")
      .description("list containers (running ones; -a for all)")
      .option("-a, --all", "show all containers, not only running ones")
      .option("-q, --quiet", "only print container IDs")
      .option("--no-trunc", "do not truncate IDs and commands")
      .addOption(new Option("--format <format>", "output format").choices(["table", "json"]).default("table")),
    () => import("../actions/ps.js"),
  );
  lazyAction(
    program
      .command("logs")
      .description("print a container's output")
      .argument("<container>", "container name or ID")
      .option("-f, --follow", "keep printing new output until the container stops")
      .option("-n, --tail <lines>", "only the last N lines (of each stream's chunks)")
      .option("-t, --timestamps", "prefix each chunk with its time"),
    () => import("../actions/logs.js"),
  );
  lazyAction(
    program
      .command("stop")
      .description("stop running containers: the stop signal, then SIGKILL after a timeout")
      .argument("<containers...>", "container names or IDs")
      .option("-t, --time <seconds>", "seconds to wait before SIGKILL (default: the container's stop timeout, 10)")
      .option("-s, --signal <signal>", "signal to send (default: the image's StopSignal, else SIGTERM)"),
    () => import("../actions/stop.js"),
  );
  lazyAction(
    program
      .command("kill")
      .description("send a signal to running containers")
      .argument("<containers...>", "container names or IDs")
      .option("-s, --signal <signal>", "signal to send", "SIGKILL"),
    () => import("../actions/stop.js"),
  );
  lazyAction(
    program
      .command("start")
      .description("start stopped containers (in the background)")
      .argument("<containers...>", "container names or IDs"),
    () => import("../actions/start.js"),
  );
  lazyAction(
    program
      .command("rm")
      .description("remove containers")
      .argument("<containers...>", "container names or IDs")
      .option("-f, --force", "kill and remove running containers")
      .option("-v, --volumes", "also remove the containers' anonymous volumes"),
    () => import("../actions/rm.js"),
  );
  const exec = program
    .command("exec")
    .description("run a command in a running container")
    .argument("<container>", "container name or ID")
    .argument("<command...>", "command and arguments")
    .option("-i, --interactive", "keep stdin open")
    .option("-t, --tty", "give the command a terminal")
    .option("-e, --env <key[=value]>", "set an environment variable; repeatable", collect)
    .option("--env-file <file>", "read environment variables from a file; repeatable", collect)
    .option("-w, --workdir <dir>", "working directory (default: the container's)")
    .option("-u, --user <user[:group]>", "user (default: the container's)");
  lazyAction(optionsStopAtFirstOperand(exec), () => import("../actions/exec.js"));

  lazyAction(
    program
      .command("commit")
      .description("make an image of a stopped container's changes")
      .argument("<container>", "container name or ID")
      .argument("<image>", "name for the new image, REPOSITORY[:TAG] (tbuild keeps only named images)")
      .option("-a, --author <author>", "author of the new layer")
      .option("-m, --message <message>", "commit message (the history comment)")
      .option("-c, --change <instruction>", "apply a Dockerfile instruction to the config (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL, ONBUILD); repeatable", collect),
    () => import("../actions/commit.js"),
  );

  const container = program.command("container").description("manage containers");
  lazyAction(
    container.command("inspect").description("show containers' configuration and state as JSON").argument("<containers...>", "container names or IDs"),
    () => import("../actions/container-inspect.js"),
  );
  lazyAction(
    container.command("prune").description("remove all stopped containers").option("-f, --force", "do not ask for confirmation"),
    () => import("../actions/container-prune.js"),
  );
}
