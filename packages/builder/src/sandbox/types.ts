// The contract between the builder and the executors that run a RUN step in a sandbox.
import type { PreparedRootfs } from "../snapshot/types.js";
import type { RunLimits } from "./limits.js";

/** An extra mount of a RUN step, applied in order after the standard ones (/proc, /dev, /etc/hosts …). */
export type MountSpec =
  /** A host file or directory. */
  | { type: "bind"; source: string; target: string; readonly: boolean }
  /** A fresh tmpfs; `size` in bytes, `mode` default 01777 (Docker's). */
  | { type: "tmpfs"; target: string; size?: number; mode?: number }
  /**
   * Layer snapshots (overlay-lower format, top-most first; [] = an empty directory).
   * `readonly: false` makes it writable; the changes are discarded after the step.
   */
  | { type: "layers"; lowers: string[]; target: string; readonly: boolean };

export interface RunSpec {
  rootfs: PreparedRootfs;
  /** argv; the builder already wrapped shell form in SHELL. */
  args: string[];
  /** "K=V" entries, passed to the command exactly. */
  env: string[];
  /** Absolute container path; created (as a stub, see `commitCwd`) when missing. */
  cwd: string;
  /**
   * Keep a cwd that the executor had to create in the diff (the way WORKDIR does). Default
   * false: like BuildKit's mount stubs, a created cwd that is still empty after the run is
   * removed again.
   */
  commitCwd?: boolean;
  user: { uid: number; gid: number; additionalGids: number[] };
  /** Default "buildkitsandbox" (BuildKit's). */
  hostname?: string;
  /**
   * "none": a new network namespace with only `lo` up. "host" and "default": the host's
   * network namespace (as buildah's chroot isolation does for the default; tbuild sets up
   * no bridge or NAT, so "default" means outbound access through the host's stack).
   */
  network: "none" | "host" | "default";
  mounts: MountSpec[];
  /** Containers (`run --read-only`): the rootfs is mounted read-only. */
  readonlyRootfs?: boolean;
  /**
   * RUN --security=insecure with the security.insecure entitlement: every capability, no
   * seccomp filter, /proc and /sys unmasked and writable, the host's /dev.
   */
  privileged?: boolean;
  /** --ulimit, --memory, --memory-swap, --pids-limit. */
  limits?: RunLimits;
  /** File contents; defaults: localhost + hostname, and the host's resolv.conf (loopback resolvers dropped without host networking). */
  etcHosts?: string;
  resolvConf?: string;
  stdin?: "null";
  stdout: (b: Buffer) => void;
  stderr: (b: Buffer) => void;
}

export interface Executor {
  readonly name: "runc" | "unshare";
  /**
   * Runs the step and resolves with the command's exit code (128+N when a signal N killed
   * it). Rejects with a SandboxError when the sandbox itself could not be set up or the
   * command could not be started, and with an AbortError when `signal` fired (the sandbox
   * is torn down and cleaned up before the promise settles).
   */
  run(spec: RunSpec, signal?: AbortSignal): Promise<{ exitCode: number }>;
}
