// `tbuild build` (also the default command: `tbuild -t app .`).

import { type Command, Option } from "commander";
import { progressModes } from "../progress/renderer.js";
import { collect, lazyAction } from "../program-kit.js";

/** Declares `build` with docker build's flags. */
export function defineBuildCommand(program: Command): void {
  const cmd = program
    .command("build", { isDefault: true })
    .description("build an image from a Dockerfile")
    .argument("<context>", "build context directory")
    .option("-f, --file <path>", "Dockerfile path, relative to the working directory, or - for stdin (default: CONTEXT/Dockerfile)")
    .option("-t, --tag <name>", "name and optionally a tag (name:tag); repeatable", collect)
    .option("--build-arg <key[=value]>", "set a build-time variable; a bare key takes its value from the environment; repeatable", collect)
    .option("--target <stage>", "build this stage and stop")
    .option("--no-cache", "do not use the layer cache")
    .option("--no-cache-filter <stage>", "do not use the cache for the steps of this stage; repeatable", collect)
    .option("--cache-from <spec>", "import build cache: REF, type=registry,ref=REF or type=local,src=DIR; repeatable", collect)
    .option("--cache-to <spec>", "export build cache: type=registry,ref=REF | type=local,dest=DIR | type=inline [,mode=min|max]; repeatable", collect)
    .option("--platform <os/arch[,…]>", "target platform, or several separated by commas for an image index (default: the host's)")
    .option("--label <key=value>", "set a label on the image; repeatable", collect)
    .option("--secret <spec>", "expose a secret to RUN --mount=type=secret: id=ID,src=FILE or id=ID,env=VAR; repeatable", collect)
    .addOption(new Option("--network <mode>", "network mode of RUN steps").choices(["default", "none", "host"]))
    .option("--allow <entitlement>", "grant an entitlement: security.insecure (lets RUN --security=insecure run privileged); repeatable", collect)
    .option("--ulimit <name=soft[:hard]>", "resource limit of RUN steps, e.g. nofile=1024:2048 (-1: unlimited); repeatable", collect)
    .option("-m, --memory <bytes>", "memory limit of each RUN step, e.g. 512m")
    .option("--memory-swap <bytes>", "memory plus swap of each RUN step; -1 for unlimited swap (default: twice --memory)")
    .option("--pids-limit <n>", "most processes a RUN step may run at once")
    .addOption(new Option("--progress <mode>", "progress output").choices([...progressModes]).default("auto"))
    .option("-q, --quiet", "print only the image ID on success")
    .option("--explain-cache", "after the build, print each step's cache result: where a hit came from, why a miss missed, the key's inputs")
    .option("--iidfile <file>", "write the image ID to a file")
    .option("-o, --output <spec>", "output destination: type=oci|docker|tar,dest=FILE, type=local,dest=DIR, type=registry,name=REF or DIR; repeatable", collect)
    .option("--push", "also push every tag to its registry (shorthand for --output type=registry,name=TAG)")
    .option("--insecure-registry <host>", "registry reachable over plain HTTP; repeatable", collect)
    .option("--builder <addr>", "build on a BuildKit daemon: unix:///run/buildkit/buildkitd.sock, tcp://host:port[,cacert=F,cert=F,key=F] or docker://unix:///var/run/docker.sock (default: $TBUILD_BUILDER; unset: build locally)")
    .addOption(new Option("--executor <name>", "RUN sandbox").choices(["auto", "runc", "unshare"]).default("auto"))
    .addOption(new Option("--snapshotter <name>", "filesystem snapshots").choices(["auto", "overlay", "copy"]).default("auto"))
    .addHelpText("after", `
Examples:
  tbuild -t app:1.0 .
  tbuild build -f docker/Dockerfile --build-arg VERSION=2 --target runtime -t app .
  tbuild build -o type=oci,dest=app.tar -o type=docker,dest=app-docker.tar .
  tbuild build --progress plain --secret id=npmrc,src=$HOME/.npmrc -t app .
  tbuild build --builder docker://unix:///var/run/docker.sock -t app .`);
  lazyAction(cmd, () => import("../actions/build.js"));
}
