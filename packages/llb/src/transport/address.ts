// Where a BuildKit daemon is, as `--builder ADDR` names it (buildx's remote and docker
// drivers): unix:///run/buildkit/buildkitd.sock, tcp://host:port (TLS with cacert, cert and
// key), or docker://unix:///var/run/docker.sock (Docker's embedded BuildKit behind its /grpc
// and /session endpoints).
export interface TlsFiles {
  /** CA certificate that signs the daemon's (buildx: cacert). */
  cacert?: string;
  /** Client certificate and key (buildx: cert, key). */
  cert?: string;
  key?: string;
  /** Name the daemon's certificate is checked against (buildx: servername). */
  serverName?: string;
}

export type BuilderAddress =
  | { kind: "buildkitd"; target: string; tls?: TlsFiles; text: string }
  | { kind: "docker"; socketPath: string; text: string };

export class BuilderAddressError extends Error {
  override name = "BuilderAddressError";
}

/**
 * Reads ADDR, optionally followed by buildx-style options: `tcp://h:1234,cacert=ca.pem,
 * cert=c.pem,key=k.pem`. Throws BuilderAddressError for anything else.
 */
export function parseBuilderAddress(text: string): BuilderAddress {
  const [addr, ...opts] = text.split(",");
  const tls: TlsFiles = {};
  for (const o of opts) {
    const eq = o.indexOf("=");
    const k = o.slice(0, eq), v = o.slice(eq + 1);
    if (eq < 0 || !v) throw new BuilderAddressError(`builder address ${text}: option "${o}" is not key=value`);
    if (k === "cacert" || k === "cert" || k === "key") tls[k] = v;
    else if (k === "servername") tls.serverName = v;
    else throw new BuilderAddressError(`builder address ${text}: unknown option "${k}" (cacert, cert, key and servername are known)`);
  }
  const url = addr!;
  if (url.startsWith("unix://")) {
    if (opts.length) throw new BuilderAddressError(`builder address ${text}: TLS options apply to tcp:// addresses only`);
    return { kind: "buildkitd", target: `unix://${pathOf(url, "unix://", text)}`, text };
  }
  if (url.startsWith("docker://")) {
    const inner = url.slice("docker://".length) || "unix:///var/run/docker.sock";
    if (!inner.startsWith("unix://")) throw new BuilderAddressError(`builder address ${text}: docker:// takes a unix socket (docker://unix:///var/run/docker.sock)`);
    return { kind: "docker", socketPath: pathOf(inner, "unix://", text), text };
  }
  if (url.startsWith("tcp://")) {
    const hostPort = url.slice("tcp://".length).replace(/\/$/, "");
    if (!/^(\[[0-9a-fA-F:]+\]|[^:/\s]+):\d+$/.test(hostPort)) throw new BuilderAddressError(`builder address ${text}: tcp:// needs host:port`);
    if ((tls.cert && !tls.key) || (tls.key && !tls.cert)) throw new BuilderAddressError(`builder address ${text}: cert and key go together`);
    return { kind: "buildkitd", target: hostPort, ...(opts.length ? { tls } : {}), text };
  }
  throw new BuilderAddressError(`builder address ${text}: expected unix:///path, tcp://host:port or docker://unix:///path`);
}

function pathOf(url: string, scheme: string, text: string): string {
  const p = url.slice(scheme.length);
  if (!p.startsWith("/")) throw new BuilderAddressError(`builder address ${text}: the socket path must be absolute`);
  return p;
}
