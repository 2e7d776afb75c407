// `inspect` of a container in the shape of Docker's (the fields tbuild has).
import type { Container } from "./container-store.js";
import { ZERO_TIME } from "./types.js";

export function inspectContainer(c: Container): Record<string, unknown> {
  const { config: k, state: s } = c;
  const a = s.attachment;
  const ports: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of k.ports) (ports[`${p.containerPort}/${p.protocol}`] ??= []).push({ HostIp: p.hostIp, HostPort: String(p.hostPort) });
  return {
    Id: k.id,
    Created: k.created,
    Path: k.args[0],
    Args: k.args.slice(1),
    State: {
      Status: s.status,
      Running: s.status === "running",
      Paused: false,
      Restarting: s.status === "restarting",
      OOMKilled: false,
      Dead: s.status === "dead",
      Pid: s.pid,
      ExitCode: s.exitCode,
      Error: s.error,
      StartedAt: s.startedAt ?? ZERO_TIME,
      FinishedAt: s.finishedAt ?? ZERO_TIME,
      ...(s.health ? { Health: { Status: s.health.status, FailingStreak: s.health.failingStreak, Log: s.health.log.map((l) => ({ Start: l.start, End: l.end, ExitCode: l.exitCode, Output: l.output })) } } : {}),
    },
    Image: k.image.id,
    Name: `/${k.name}`,
    RestartCount: s.restartCount,
    Driver: "overlay",
    HostConfig: {
      Binds: k.mounts.filter((m) => m.type === "bind").map((m) => `${m.source}:${m.target}${m.readonly ? ":ro" : ""}`),
      NetworkMode: k.network,
      PortBindings: ports,
      RestartPolicy: { Name: k.restart.name, MaximumRetryCount: k.restart.maximumRetryCount },
      AutoRemove: k.autoRemove,
      ReadonlyRootfs: k.readOnly,
      Tmpfs: Object.fromEntries(k.mounts.filter((m) => m.type === "tmpfs").map((m) => [m.target, [m.size ? `size=${m.size}` : "", m.mode !== undefined ? `mode=${m.mode.toString(8)}` : ""].filter(Boolean).join(",")])),
    },
    GraphDriver: { Name: "overlay", Data: { UpperDir: `${c.dir}/upper`, WorkDir: `${c.dir}/work` } },
    Mounts: k.mounts.map((m) =>
      m.type === "bind" ? { Type: "bind", Source: m.source, Destination: m.target, RW: !m.readonly }
      : m.type === "volume" ? { Type: "volume", Name: m.name, Destination: m.target, Driver: "local", RW: !m.readonly }
      : { Type: "tmpfs", Destination: m.target, RW: true }),
    Config: {
      Hostname: k.hostname,
      User: k.user,
      Tty: k.tty,
      OpenStdin: k.openStdin,
      Env: k.env,
      Cmd: k.cmd,
      Entrypoint: k.entrypoint.length ? k.entrypoint : null,
      Image: k.image.ref,
      WorkingDir: k.workingDir,
      Labels: k.labels,
      StopSignal: k.stopSignal,
      StopTimeout: k.stopTimeout,
      ...(k.healthcheck ? { Healthcheck: { Test: k.healthcheck.test } } : {}),
    },
    NetworkSettings: {
      Ports: ports,
      Networks: a
        ? { [a.network]: { IPAddress: a.ipAddress ?? "", IPPrefixLen: a.prefixLength ?? 0, Gateway: a.gateway ?? "", MacAddress: a.macAddress ?? "", Aliases: k.networkAliases, SandboxKey: a.netns } }
        : { [k.network]: {} },
    },
  };
}
