// Keep-alive connection pools over Node's own node:http / node:https, with the three
// timeouts a registry client needs (connect, response headers, body silence).
//
// Why not a library: we used undici; every process that talks to a registry paid for
// loading it (dozens of modules, and its HTTP parser is WebAssembly compiled on the first
// connection: ~50 ms of a 0.4 s push measured) while Node's built-in client parses HTTP in
// native code and loads in ~6 ms. What the registry client needs from HTTP is small —
// one request at a time per connection, Node streams in and out, redirects and retries
// decided by the caller (transport.ts) — and is what node:http does; this file only adds
// the pools' settings and the timeouts.
import type { Agent as HttpAgent, IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from "node:http";
import type { Socket } from "node:net";
import { Readable } from "node:stream";

/** TLS settings of a pool (ignored for http: URLs). */
export interface PoolTls {
  /** false: no certificate verification (Docker's insecure registries). */
  rejectUnauthorized?: boolean;
  /** CA certificates (PEM) to trust besides Node's bundled roots. */
  extraCa?: string[];
}

/** Timeouts in milliseconds. */
export interface PoolTimeouts {
  connect: number;
  headers: number;
  body: number;
}

export interface PoolRequest {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body?: Buffer | Readable;
}

/** A response: status, lower-cased headers, and the body as a Node stream. */
export interface PoolResponse {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: IncomingMessage;
}

/** A timeout failure; its code matches /TIMEOUT/, as the transport's classifier expects. */
function timeoutError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/** Reads the rest of a body, so its connection goes back to the pool. */
export async function drain(res: IncomingMessage): Promise<void> {
  if (res.complete || res.destroyed) return;
  await new Promise<void>((resolve) => {
    res.once("end", resolve).once("close", resolve).once("error", () => resolve());
    res.resume();
  });
}

/** A whole body as text. */
export async function readText(res: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of res) parts.push(c as Buffer);
  return Buffer.concat(parts).toString("utf8");
}

/** One pool: an http and an https agent sharing TLS settings and timeouts. */
export class HttpPool {
  private agents = new Map<"http:" | "https:", HttpAgent>();

  constructor(
    private readonly tls: PoolTls,
    private readonly timeouts: PoolTimeouts,
  ) {}

  private async agent(protocol: "http:" | "https:"): Promise<{ agent: HttpAgent; request: typeof import("node:http").request }> {
    // Loaded on the first request: node:https brings node:tls, which costs every command
    // that never talks to a registry ~10 ms to load.
    const mod = protocol === "https:" ? await import("node:https") : await import("node:http");
    let agent = this.agents.get(protocol);
    if (!agent) {
      if (protocol === "https:") {
        const { extraCa, rejectUnauthorized } = this.tls;
        // Node's `ca` option replaces the bundled roots: give both.
        const ca = extraCa?.length ? [...(await import("node:tls")).rootCertificates, ...extraCa] : undefined;
        agent = new (mod as typeof import("node:https")).Agent({ keepAlive: true, rejectUnauthorized, ca });
      } else {
        agent = new mod.Agent({ keepAlive: true });
      }
      this.agents.set(protocol, agent);
    }
    return { agent, request: mod.request };
  }

  /** Sends one request; resolves when the response headers arrive. */
  async request(r: PoolRequest): Promise<PoolResponse> {
    const protocol = r.url.protocol;
    if (protocol !== "http:" && protocol !== "https:") throw new Error(`unsupported URL scheme ${protocol}`);
    const { agent, request } = await this.agent(protocol);
    const headers: OutgoingHttpHeaders = { ...r.headers };
    if (Buffer.isBuffer(r.body)) headers["content-length"] ??= String(r.body.length);
    return new Promise<PoolResponse>((resolve, reject) => {
      const req = request({
        protocol,
        hostname: r.url.hostname.replace(/^\[(.*)\]$/, "$1"),
        port: r.url.port || undefined,
        path: r.url.pathname + r.url.search,
        method: r.method,
        headers,
        agent,
      });
      let timer: NodeJS.Timeout | undefined;
      let answered = false;
      const arm = (ms: number, code: string, what: string): void => {
        clearTimeout(timer);
        timer = setTimeout(() => req.destroy(timeoutError(code, `${what} timed out after ${ms} ms`)), ms);
      };
      const disarm = (): void => clearTimeout(timer);
      req.once("socket", (socket: Socket) => {
        // A pooled socket is already connected; a new one gets the connect timeout.
        if (socket.connecting) {
          arm(this.timeouts.connect, "CONNECT_TIMEOUT", "connecting");
          socket.once(protocol === "https:" ? "secureConnect" : "connect", disarm);
        }
      });
      // The headers timeout runs from the end of the request body to the response.
      // (A server may answer before it has read the whole body: a 401 to an upload.)
      req.once("finish", () => answered || arm(this.timeouts.headers, "HEADERS_TIMEOUT", "waiting for the response headers"));
      req.once("error", (err) => {
        disarm();
        reject(err);
      });
      req.once("response", (res) => {
        answered = true;
        disarm();
        // Body silence: the socket's idle timer (the pool resets it when the socket is freed).
        res.setTimeout(this.timeouts.body, () => res.destroy(timeoutError("BODY_TIMEOUT", `the response body timed out: silent for ${this.timeouts.body} ms`)));
        resolve({ statusCode: res.statusCode ?? 0, headers: res.headers, body: res });
      });
      if (r.body instanceof Readable) {
        r.body.once("error", (err) => req.destroy(err));
        r.body.pipe(req);
      } else {
        req.end(r.body);
      }
    });
  }

  /** Closes every pooled connection. */
  close(): void {
    for (const a of this.agents.values()) a.destroy();
    this.agents.clear();
  }
}
