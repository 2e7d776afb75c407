// HTTP(S) to registries: scheme choice, TLS trust, timeouts, retries with backoff,
// authentication retries and safe redirects.
//
// Connections are Node's own (http-pool.ts: node:http/https agents with keep-alive and
// timeouts); redirects, which a client library would follow itself, are followed here by
// rule (below).
import { Readable } from "node:stream";
import { OciError } from "../errors.js";
import { Authenticator } from "./auth.js";
import { dockerCredentials, type Credentials } from "./credentials.js";
import { drain, HttpPool, readText, type PoolResponse } from "./http-pool.js";
import { DOCKER_HUB } from "./reference.js";

/** Per-registry settings, keyed by "host[:port]". */
export interface RegistryHostOptions {
  /**
   * Docker's "insecure registry": HTTPS without certificate checks, falling back to plain
   * HTTP. Loopback registries (localhost, 127.0.0.0/8, ::1) are insecure unless this is false.
   */
  insecure?: boolean;
  /** Extra CA certificates (PEM) to trust for this registry. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Credentials for this registry (take precedence over the Docker config). */
  credentials?: Credentials;
}

/** Timeouts in milliseconds. */
export interface Timeouts {
  /** Establishing the connection (TCP + TLS). Default 30 s. */
  connect?: number;
  /** Waiting for response headers once the request is sent. Default 120 s. */
  headers?: number;
  /** Longest silence while receiving a body. Default 60 s. */
  body?: number;
}

/** Connection, trust, credential, timeout and retry settings of a RegistryClient. */
export interface TransportOptions {
  hosts?: Record<string, RegistryHostOptions>;
  /** Extra CA certificates (PEM) trusted for every registry. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Credentials lookup used before the Docker config (return undefined to fall through). */
  credentials?: (registry: string) => Credentials | undefined | Promise<Credentials | undefined>;
  /** Read ~/.docker/config.json ($DOCKER_CONFIG); a directory to use another; false to never. */
  dockerConfig?: boolean | string;
  timeouts?: Timeouts;
  /** Retries after 5xx, 429 and network errors (never after other 4xx). Default 3. */
  retries?: number;
  /** First backoff delay; doubles per retry (with jitter). Default 250 ms. */
  retryDelay?: number;
  userAgent?: string;
}

/** One request to a registry (see Transport.send). */
export interface RegistryRequest {
  method: "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";
  registry: string;
  /** "/v2/…" on the registry, or an absolute URL (upload Location). */
  path: string;
  headers?: Record<string, string>;
  /** A buffer, or a factory giving a fresh stream for each attempt (so retries can replay it). */
  body?: Buffer | (() => Promise<AsyncIterable<Uint8Array>>);
  /** Token scopes, e.g. "repository:library/alpine:pull". */
  scopes: string[];
  /** Names the thing requested, for error messages. */
  what: string;
}

/** Response headers by (case-insensitive) name; several values come joined by ", ". */
export interface ResponseHeaders {
  get(name: string): string | null;
}

/** A registry response with a Node stream body. */
export interface RegistryResponse {
  status: number;
  headers: ResponseHeaders;
  url: URL;
  /** The body (null for HEAD or no content); consume or destroy it. */
  body: Readable | null;
}

const RETRY_STATUS = new Set([408, 429, 500, 502, 503, 504]);
const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;

/** True for hosts Docker treats as insecure by default. */
export function isLoopback(registry: string): boolean {
  const host = registry.replace(/:\d+$/, "").replace(/^\[(.*)\]$/, "$1");
  if (host === "localhost" || host === "::1") return true;
  // Dotted-quad 127.0.0.0/8 (node:net's isIP would do, but loading node:net and node:tls
  // costs every command ~15 ms; they are loaded with the first request).
  const quad = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  return quad !== null && quad.slice(1).every((o) => Number(o) <= 255);
}

function toList(v: string | Buffer | Array<string | Buffer> | undefined): Array<string | Buffer> {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function headersOf(raw: PoolResponse["headers"]): ResponseHeaders {
  return {
    get(name) {
      const v = raw[name.toLowerCase()];
      return v === undefined ? null : Array.isArray(v) ? v.join(", ") : v;
    },
  };
}

/** Reads the rest of a body we do not need, so its connection can be reused. */
async function discard(res: PoolResponse): Promise<void> {
  await drain(res.body);
}

/** Classifies a request failure (the real error may come wrapped as `cause`). */
export function networkError(err: unknown, what: string, url: string): OciError {
  if (err instanceof OciError) return err;
  const e = err as { cause?: { code?: string; message?: string }; code?: string; message?: string; name?: string };
  const code = e.cause?.code ?? e.code ?? "";
  const detail = e.cause?.message ?? e.message ?? String(err);
  if (/TIMEOUT/.test(code) || e.name === "TimeoutError") {
    return new OciError("TIMEOUT", `${what}: ${url} did not answer in time (${detail}).`, { cause: err });
  }
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) {
    return new OciError("REGISTRY", `${what}: the TLS certificate of ${new URL(url).host} is not trusted (${code}: ${detail}); pass its CA certificate (ca option) or mark the registry insecure.`, { cause: err });
  }
  return new OciError("REGISTRY", `${what}: cannot reach ${new URL(url).host} (${code || detail}).`, { cause: err });
}

function retriable(err: OciError): boolean {
  return err.code === "TIMEOUT" || (err.code === "REGISTRY" && !/certificate/.test(err.message));
}

/** HTTP(S) transport shared by the requests of one RegistryClient. */
export class Transport {
  readonly auth: Authenticator;
  private readonly pools = new Map<string, HttpPool>();
  private readonly bases = new Map<string, Promise<URL>>();
  private readonly retries: number;
  private readonly retryDelay: number;

  constructor(private readonly opts: TransportOptions = {}) {
    this.retries = opts.retries ?? 3;
    this.retryDelay = opts.retryDelay ?? 250;
    this.auth = new Authenticator((r) => this.lookupCredentials(r), async (url, init) => {
      const res = await this.tokenRequest(url, init);
      return { status: res.statusCode, json: async () => JSON.parse(await readText(res.body)) as unknown, text: () => readText(res.body) };
    });
  }

  private async lookupCredentials(registry: string): Promise<Credentials | undefined> {
    const own = this.opts.hosts?.[registry]?.credentials;
    if (own) return own;
    const given = await this.opts.credentials?.(registry);
    if (given) return given;
    if (this.opts.dockerConfig === false) return undefined;
    return dockerCredentials(registry, typeof this.opts.dockerConfig === "string" ? this.opts.dockerConfig : undefined);
  }

  private insecure(registry: string): boolean {
    return this.opts.hosts?.[registry]?.insecure ?? isLoopback(registry);
  }

  /** A token request; a token server may redirect (Go's client, which Docker uses, follows up to 10). */
  private async tokenRequest(url: URL, init: { method: "GET" | "POST"; headers: Record<string, string>; body?: string }): Promise<PoolResponse> {
    let method = init.method;
    let body = init.body === undefined ? undefined : Buffer.from(init.body);
    for (let hop = 0; ; hop++) {
      const res = await this.poolFor(url.host, this.insecure(url.host) ? "insecure" : "verify").request({ url, method, headers: init.headers, body });
      const location = res.headers.location;
      if (!REDIRECT_STATUS.has(res.statusCode) || !location || hop >= 10) return res;
      await discard(res);
      url = new URL(location, url);
      if (res.statusCode === 303 || ((res.statusCode === 301 || res.statusCode === 302) && method === "POST")) {
        method = "GET";
        body = undefined;
      }
    }
  }

  private poolFor(registry: string, mode: "verify" | "insecure"): HttpPool {
    const extra = [...toList(this.opts.ca), ...toList(this.opts.hosts?.[registry]?.ca)];
    const key = mode === "insecure" ? "insecure" : extra.length > 0 ? `ca:${registry}` : "default";
    let pool = this.pools.get(key);
    if (!pool) {
      const t = this.opts.timeouts ?? {};
      const tls = mode === "insecure" ? { rejectUnauthorized: false } : { extraCa: extra.map(String) };
      pool = new HttpPool(tls, { connect: t.connect ?? 30_000, headers: t.headers ?? 120_000, body: t.body ?? 60_000 });
      this.pools.set(key, pool);
    }
    return pool;
  }

  /**
   * The base URL of a registry. Secure registries: https. Insecure ones: https without
   * verification if it answers, else http; loopback ones (insecure by default, as Docker
   * treats 127.0.0.0/8) the other way round — plain HTTP first, so that the usual local
   * registry costs no TLS handshake, and https when the port speaks TLS. Decided once, by
   * pinging /v2/ (which also teaches us the registry's auth challenge).
   */
  base(registry: string): Promise<URL> {
    let p = this.bases.get(registry);
    if (!p) {
      p = this.chooseBase(registry);
      p.catch(() => this.bases.delete(registry));
      this.bases.set(registry, p);
    }
    return p;
  }

  private async chooseBase(registry: string): Promise<URL> {
    // Docker Hub's API lives on registry-1.docker.io (credentials stay filed under docker.io).
    if (registry === DOCKER_HUB) return new URL("https://registry-1.docker.io");
    if (!this.insecure(registry)) return new URL(`https://${registry}`);
    const schemes = isLoopback(registry) && this.opts.hosts?.[registry]?.insecure === undefined ? ["http", "https"] : ["https", "http"];
    for (const [i, scheme] of schemes.entries()) {
      const last = i === schemes.length - 1;
      const url = new URL(`${scheme}://${registry}/v2/`);
      try {
        const res = await this.poolFor(registry, "insecure").request({ url, method: "GET", headers: { "user-agent": this.opts.userAgent ?? "tbuild" } });
        await discard(res);
        // A TLS port asked in plain HTTP answers 400 (Go: "Client sent an HTTP request to an HTTPS server").
        if (scheme === "http" && res.statusCode === 400 && !last) continue;
        this.auth.learn(registry, headersOf(res.headers).get("www-authenticate"));
        return new URL(`${scheme}://${registry}`);
      } catch (err) {
        const e = networkError(err, `connecting to ${registry}`, url.href);
        if (e.code === "TIMEOUT" || last) throw e;
      }
    }
    throw new OciError("REGISTRY", `cannot reach ${registry} over HTTPS or HTTP.`);
  }

  /**
   * The pool for a request URL: the registry's own settings on its origin; elsewhere (a
   * redirect target, a token server) the settings of that host, so unverified TLS is used
   * only for hosts that are themselves insecure.
   */
  private dispatcher(registry: string, url: URL, base: URL): HttpPool {
    const host = url.origin === base.origin ? registry : url.host;
    return this.poolFor(host, this.insecure(host) ? "insecure" : "verify");
  }

  /**
   * Sends a request with authentication, retries and redirects. 401 is answered once with
   * fresh credentials; 5xx, 408, 429 and network errors are retried with exponential backoff
   * (only when the body can be replayed). Redirects are followed for GET and HEAD; the
   * Authorization header goes only to the registry's own origin, never to another host.
   * Returns any response status; callers check it.
   */
  async send(req: RegistryRequest): Promise<RegistryResponse> {
    const base = await this.base(req.registry);
    const start = new URL(req.path, base);
    let scopes = req.scopes;
    let authRetried = false;
    for (let attempt = 0; ; attempt++) {
      let authHeader = await this.auth.header(req.registry, scopes);
      let url = start;
      let method = req.method;
      let res: PoolResponse;
      let headers: ResponseHeaders;
      try {
        for (let hop = 0; ; hop++) {
          const sent: Record<string, string> = { "user-agent": this.opts.userAgent ?? "tbuild", ...req.headers };
          const sameOrigin = url.origin === base.origin;
          if (authHeader && sameOrigin) sent.authorization = authHeader;
          const given = req.body === undefined || method === "GET" || method === "HEAD" ? undefined : Buffer.isBuffer(req.body) ? req.body : await req.body();
          const body = given === undefined || Buffer.isBuffer(given) || given instanceof Readable ? given : Readable.from(given);
          res = await this.dispatcher(req.registry, url, base).request({ url, method, headers: sent, body });
          headers = headersOf(res.headers);
          // Only GET and HEAD follow redirects (an upload is never redirected).
          const location = headers.get("location");
          const redirect = REDIRECT_STATUS.has(res.statusCode) && location && (req.method === "GET" || req.method === "HEAD");
          if (!redirect) break;
          await discard(res);
          if (hop >= MAX_REDIRECTS) throw new OciError("REGISTRY", `${req.what}: too many redirects (last to ${location}).`);
          url = new URL(location, url);
          if (res.statusCode === 303) method = "GET";
          if (url.protocol !== "https:" && url.protocol !== "http:") throw new OciError("REGISTRY", `${req.what}: redirected to an unsupported URL ${url.href}.`);
        }
      } catch (err) {
        const e = networkError(err, req.what, url.href);
        if (retriable(e) && attempt < this.retries) {
          await sleep(this.backoff(attempt));
          continue;
        }
        throw e;
      }
      if (res.statusCode === 401 && !authRetried) {
        await discard(res);
        const next = await this.auth.unauthorized(req.registry, headers.get("www-authenticate"), scopes, authHeader);
        if (next) {
          authRetried = true;
          scopes = next;
          attempt--; // an auth round trip is not a retry
          continue;
        }
        authHeader = undefined;
      }
      if (RETRY_STATUS.has(res.statusCode) && attempt < this.retries) {
        await discard(res);
        const after = Number(headers.get("retry-after"));
        await sleep(Number.isFinite(after) && after > 0 ? Math.min(after * 1000, 30_000) : this.backoff(attempt));
        continue;
      }
      if (method === "HEAD") await discard(res);
      const body: Readable | null = method === "HEAD" ? null : res.body;
      // Callers drop a body they do not need with destroy(), which may surface as an
      // "aborted" error event: not a failure of anything. Readers (for await, pipeline) still
      // see real errors: they listen themselves.
      body?.on("error", () => undefined);
      return { status: res.statusCode, headers, url, body };
    }
  }

  private backoff(attempt: number): number {
    const d = this.retryDelay * 2 ** attempt;
    return Math.min(d + Math.random() * d * 0.25, 10_000);
  }

  /** Closes pooled connections. */
  async close(): Promise<void> {
    for (const p of this.pools.values()) p.close();
    this.pools.clear();
  }
}

/** Bodies up to this size are read to their end rather than dropped with their connection. */
const REUSE_MAX_BODY = 64 * 1024;

/**
 * Done with a response whose body is not needed. A small body (an upload's empty 202, a
 * manifest PUT's 201) is read to its end in the background so the connection goes back to
 * the pool: destroying it closes the connection, and the next request pays for a new one.
 * A large or unbounded body is dropped with its connection.
 */
export function release(res: RegistryResponse): void {
  if (!res.body) return;
  const length = res.headers.get("content-length");
  if (length !== null && Number(length) <= REUSE_MAX_BODY) res.body.resume();
  else res.body.destroy();
}

/** Reads a registry error body ({"errors":[{code,message,detail}]}) into one line. */
export async function errorDetail(res: RegistryResponse): Promise<string> {
  if (!res.body) return "";
  let text = "";
  try {
    for await (const c of res.body) {
      text += (c as Buffer).toString();
      if (text.length > 65536) break;
    }
  } catch {
    /* the detail is best effort */
  } finally {
    res.body.destroy();
  }
  try {
    const j = JSON.parse(text) as { errors?: Array<{ code?: string; message?: string; detail?: unknown }> };
    if (Array.isArray(j.errors) && j.errors.length > 0) {
      return j.errors.map((e) => [e.code, e.message].filter(Boolean).join(": ")).join("; ");
    }
  } catch {
    /* not JSON */
  }
  return text.trim().slice(0, 200);
}
