// A reverse proxy in front of a test registry that can misbehave on chosen requests: answer
// with a status (500, 401), or cut a blob short. Failure injection only: everything it
// passes through is the real registry's answer. Records every request it saw and counts
// the client connections they came on.
import { createServer, request, type IncomingMessage, type Server } from "node:http";

export type Fault = { status: number } | "truncate" | undefined;

export interface FaultProxy {
  /** "127.0.0.1:PORT": use it as the registry part of references. */
  host: string;
  /** Method and path of every request, in order. */
  requests: string[];
  /** Client connections accepted (keep-alive reuse shows as fewer connections than requests). */
  connections: number;
  /** Decides the fault of each request (undefined: pass it through). */
  fault: (req: IncomingMessage) => Fault;
  close(): Promise<void>;
}

export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const [uhost, uport] = upstream.split(":");
  const proxy: FaultProxy = { host: "", requests: [], connections: 0, fault: () => undefined, close: async () => {} };
  const server: Server = createServer((req, res) => {
    proxy.requests.push(`${req.method} ${req.url}`);
    const fault = proxy.fault(req);
    if (fault && fault !== "truncate") {
      req.resume();
      res.writeHead(fault.status, { "content-type": "application/json", ...(fault.status === 401 ? { "www-authenticate": 'Basic realm="test"' } : {}) });
      res.end(JSON.stringify({ errors: [{ code: "INJECTED", message: `injected ${fault.status}` }] }));
      return;
    }
    const up = request({ host: uhost, port: Number(uport), method: req.method, path: req.url, headers: { ...req.headers, host: upstream } }, (ures) => {
      const headers = { ...ures.headers };
      if (headers.location) headers.location = headers.location.replace(upstream, proxy.host);
      if (fault === "truncate" && ures.statusCode === 200) {
        // Announce the full length, send half, then drop the connection.
        res.writeHead(200, headers);
        const parts: Buffer[] = [];
        ures.on("data", (c: Buffer) => parts.push(c));
        ures.on("end", () => {
          const all = Buffer.concat(parts);
          res.write(all.subarray(0, Math.floor(all.length / 2)));
          res.destroy();
        });
        return;
      }
      res.writeHead(ures.statusCode ?? 502, headers);
      ures.pipe(res);
    });
    up.on("error", () => res.destroy());
    req.pipe(up);
  });
  server.on("connection", () => proxy.connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  proxy.host = `127.0.0.1:${(server.address() as { port: number }).port}`;
  proxy.close = () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); });
  return proxy;
}
