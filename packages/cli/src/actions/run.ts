// `tbuild run`: creates a container from a stored image and runs it — in the foreground,
// this process supervising it (output, exit status, signals, a terminal with -t), or with
// -d under a monitor process of its own.

import type { Command } from "commander";
import { UsageError } from "../errors.js";
import { type StoreFlags, withStore } from "../images/open-store.js";
import { imageToRun, parsePullPolicy } from "../images/image-to-run.js";
import { attached, envFromFlags, labelsFromFlags, loadRuntime, usage } from "../containers/runtime-kit.js";

interface RunFlags extends StoreFlags {
  detach?: boolean;
  interactive?: boolean;
  tty?: boolean;
  rm?: boolean;
  name?: string;
  env?: string[];
  envFile?: string[];
  workdir?: string;
  user?: string;
  entrypoint?: string;
  hostname?: string;
  volume?: string[];
  mount?: string[];
  tmpfs?: string[];
  network: string;
  networkAlias?: string[];
  publish?: string[];
  readOnly?: boolean;
  restart: string;
  stopTimeout?: string;
  label?: string[];
  pull: string;
  quiet?: boolean;
}

export default async function runAction(cmd: Command): Promise<number> {
  const [imageRef, args] = cmd.processedArgs as [string, string[]];
  const f = cmd.optsWithGlobals<RunFlags>();
  const rt = await loadRuntime();
  const mounts = [
    ...(f.volume ?? []).map((v) => usage(() => rt.parseVolumeFlag(v))),
    ...(f.mount ?? []).map((v) => usage(() => rt.parseMountFlag(v))),
    ...(f.tmpfs ?? []).map((v) => usage(() => rt.parseTmpfsFlag(v))),
  ];
  const ports = (f.publish ?? []).map((p) => usage(() => rt.parsePortFlag(p)));
  const restart = usage(() => rt.parseRestart(f.restart));
  if (restart.name !== "no" && !f.detach) throw new UsageError(`--restart ${f.restart} needs -d: a restarted container runs under its monitor, not under this command`);
  if (f.detach && f.interactive) throw new UsageError("-d and -i together are not supported: a detached container's stdin cannot be attached to later (there is no 'attach')");
  if (f.tty && !f.detach && f.interactive && !process.stdin.isTTY) throw new UsageError("the input device is not a TTY; drop -t, or run from a terminal");
  const stopTimeout = f.stopTimeout === undefined ? undefined : Number(f.stopTimeout);
  if (stopTimeout !== undefined && !Number.isInteger(stopTimeout)) throw new UsageError(`invalid --stop-timeout ${f.stopTimeout}: expected whole seconds`);
  const env = envFromFlags(rt, f.envFile, f.env);

  const pull = parsePullPolicy(f.pull);
  const say = (line: string) => f.quiet || process.stderr.write(`${line}\n`);
  const { root, image } = await withStore(f, async (store) => ({ root: store.root, image: await imageToRun(store, imageRef, pull, { say }) }));
  const { container, warnings } = await rt.createContainer(root, {
    image: {
      ref: imageRef,
      id: image.configDigest,
      manifest: image.manifestDigest,
      layers: image.manifest.layers.map((l, i) => ({ blob: l.digest, diffID: image.config.rootfs.diff_ids[i]! })),
    },
    imageConfig: image.config.config ?? {},
    ...(f.name !== undefined ? { name: f.name } : {}),
    cmd: args,
    ...(f.entrypoint !== undefined ? { entrypoint: f.entrypoint === "" ? [] : [f.entrypoint] } : {}),
    env,
    ...(f.workdir !== undefined ? { workdir: f.workdir } : {}),
    ...(f.user !== undefined ? { user: f.user } : {}),
    ...(f.hostname !== undefined ? { hostname: f.hostname } : {}),
    tty: f.tty === true,
    openStdin: f.interactive === true,
    autoRemove: f.rm === true,
    readOnly: f.readOnly === true,
    mounts,
    network: f.network,
    networkAliases: f.networkAlias ?? [],
    ports,
    restart,
    labels: labelsFromFlags(f.label),
    ...(stopTimeout !== undefined ? { stopTimeout } : {}),
  });
  for (const w of warnings) process.stderr.write(`WARNING: ${w}\n`);
  if (f.detach) {
    await rt.startDetached(root, container);
    process.stdout.write(`${container.config.id}\n`);
    return 0;
  }
  return attached(f.tty === true && f.interactive === true, (onHelper) =>
    new rt.Supervisor(root, container.config.id).run({
      stdin: f.interactive ? "inherit" : "ignore",
      stdout: (b) => process.stdout.write(b),
      stderr: (b) => process.stderr.write(b),
      onHelper,
    }));
}
