// Options a local build honours that the remote backend does not (yet), refused up front
// with the reason, instead of being silently ignored.
import type { BuildOptions } from "../api-types.js";
import { BuildOptionError } from "../solve/errors.js";

export function checkRemoteOptions(opts: BuildOptions): void {
  const refuse = (option: keyof BuildOptions, what: string, why: string) => {
    throw new BuildOptionError(option, `${what} is not supported with --builder ${opts.builder}: ${why}`);
  };
  if (opts.executor && opts.executor !== "auto") refuse("executor", "--executor", "RUN steps run in the daemon's sandbox");
  if (opts.snapshotter && opts.snapshotter !== "auto") refuse("snapshotter", "--snapshotter", "the daemon keeps the snapshots");
  if (opts.memory !== undefined || opts.memorySwap !== undefined || opts.pidsLimit !== undefined) refuse("memory", "--memory/--memory-swap/--pids-limit", "BuildKit 0.8's ExecOp has no per-step limits, and the linux resources of newer BuildKit's ExecOp (capability exec.meta.linux.resources) are not converted");
}
