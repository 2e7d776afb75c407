// A container's record: what was asked when it was created (config.json, never changed
// afterwards) and what is (state.json, rewritten whole by the monitor).
import type { Digest } from "@tbuild/oci";

/** The image a container runs, as the CLI resolved it. */
export interface ImageRef {
  /** What the user typed (or the compose service's image). */
  ref: string;
  /** The image ID (config digest). */
  id: Digest;
  manifest: Digest;
  /** Bottom-most first: the manifest's layer blob and its diffID. */
  layers: { blob: Digest; diffID: Digest }[];
}

/** A mount of a container, as stored. */
export type MountConfig =
  | { type: "bind"; source: string; target: string; readonly: boolean }
  | { type: "volume"; name: string; target: string; readonly: boolean; anonymous: boolean; nocopy: boolean }
  | { type: "tmpfs"; target: string; size?: number; mode?: number };

/** -p [IP:]HOST:CONTAINER[/PROTO]. */
export interface PortBinding {
  hostIp: string;
  hostPort: number;
  containerPort: number;
  protocol: "tcp" | "udp";
}

export interface RestartPolicy {
  name: "no" | "on-failure" | "always" | "unless-stopped";
  /** on-failure:N; 0 = no limit. */
  maximumRetryCount: number;
}

export interface Healthcheck {
  test: string[];
  intervalMs: number;
  timeoutMs: number;
  retries: number;
  startPeriodMs: number;
}

export interface ContainerConfig {
  id: string;
  name: string;
  created: string;
  image: ImageRef;
  /** The full argv: entrypoint then command. */
  args: string[];
  /** As Docker reports them: the entrypoint and the command separately. */
  entrypoint: string[];
  cmd: string[];
  env: string[];
  workingDir: string;
  user: string;
  hostname: string;
  tty: boolean;
  openStdin: boolean;
  autoRemove: boolean;
  readOnly: boolean;
  mounts: MountConfig[];
  /** "none", "host", "bridge" or a user-defined network's name. */
  network: string;
  /** Extra names on a user-defined network (compose service names). */
  networkAliases: string[];
  ports: PortBinding[];
  restart: RestartPolicy;
  stopSignal: string;
  /** Seconds `stop` waits before SIGKILL. */
  stopTimeout: number;
  labels: Record<string, string>;
  healthcheck?: Healthcheck;
}

export type ContainerStatus = "created" | "running" | "restarting" | "exited" | "dead";

/** Network attachment made by the monitor, undone when the container stops (or by rm -f / ps after a crash). */
export interface NetworkAttachment {
  network: string;
  /** The bind-mounted network namespace (under /run/netns). */
  netns: string;
  hostVeth?: string;
  ipAddress?: string;
  prefixLength?: number;
  gateway?: string;
  macAddress?: string;
  /** The host file bound on the container's /etc/hosts (rewritten for name resolution). */
  hostsFile?: string;
}

export interface ContainerState {
  status: ContainerStatus;
  /** Host pid of the container's pid 1 (0 when not running) and its start time (/proc stat field 22). */
  pid: number;
  pidStart?: string;
  /** The monitor (or the attached `tbuild run`) supervising it. */
  monitorPid: number;
  monitorStart?: string;
  exitCode: number;
  error: string;
  startedAt: string;
  finishedAt: string;
  restartCount: number;
  health?: { status: "starting" | "healthy" | "unhealthy"; failingStreak: number; log: { start: string; end: string; exitCode: number; output: string }[] };
  attachment?: NetworkAttachment;
}

export const ZERO_TIME = "0001-01-01T00:00:00Z";

export function initialState(): ContainerState {
  return { status: "created", pid: 0, monitorPid: 0, exitCode: 0, error: "", startedAt: ZERO_TIME, finishedAt: ZERO_TIME, restartCount: 0 };
}
