// Docker's embedded BuildKit is reached by upgrading an HTTP/1.1 request on the Engine API
// socket: POST /grpc (the Control API) or POST /session (a BuildKit session), with
// `Connection: Upgrade` and `Upgrade: h2c`; after "101 Switching Protocols" the socket
// carries HTTP/2 (buildx driver/docker does the same through the Docker client's
// DialHijack). Node's HTTP client performs the upgrade; HTTP/2 itself is @grpc/grpc-js's.
import http from "node:http";
import type { Duplex } from "node:stream";

export class DockerUnreachableError extends Error {
  override name = "DockerUnreachableError";
}

/** The upgraded socket of `POST <path>` on the Engine API at `socketPath`. */
export function dockerUpgrade(socketPath: string, path: "/grpc" | "/session", headers: Record<string, string | string[]> = {}): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      socketPath,
      path,
      method: "POST",
      headers: { ...headers, Connection: "Upgrade", Upgrade: "h2c", Host: "docker" },
    });
    req.on("upgrade", (_res, socket, head) => {
      if (head.length > 0) socket.unshift(head);
      resolve(socket);
    });
    req.on("response", (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => reject(new DockerUnreachableError(`Docker at ${socketPath} refused ${path} with HTTP ${res.statusCode}: ${body.trim() || res.statusMessage} (the daemon must have BuildKit; Docker 18.09 or newer)`)));
    });
    req.on("error", (e) => reject(new DockerUnreachableError(`cannot reach Docker at ${socketPath}: ${(e as Error).message}`)));
    req.end();
  });
}
