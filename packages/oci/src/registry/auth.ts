// Registry authentication: learning a registry's challenge (Basic or Bearer), fetching and
// caching Bearer tokens per scope (Docker's token protocol, and the OAuth2 refresh-token
// exchange for identity tokens), and answering "what Authorization header goes with this
// request". A 401 is retried once with fresh credentials; a second 401 is final.
import { OciError } from "../errors.js";
import { parseChallenges, type Challenge } from "./challenge.js";
import type { Credentials } from "./credentials.js";

/** Performs the raw HTTP exchange with a token server (the transport provides it). */
export type TokenFetch = (url: URL, init: { method: "GET" | "POST"; headers: Record<string, string>; body?: string }) =>
  Promise<{ status: number; json: () => Promise<unknown>; text: () => Promise<string> }>;

interface CachedToken {
  token: string;
  expires: number;
}

const EXPIRY_MARGIN_MS = 10_000;

function basic(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username ?? ""}:${c.password ?? ""}`).toString("base64")}`;
}

/** Per-client authentication state: challenges per registry, tokens per scope. */
export class Authenticator {
  private readonly challenges = new Map<string, Challenge>();
  private readonly tokens = new Map<string, CachedToken>();
  private readonly pending = new Map<string, Promise<string>>();
  private readonly creds = new Map<string, Promise<Credentials | undefined>>();
  /** Token requests made (for tests and diagnostics). */
  tokenRequests = 0;

  constructor(
    private readonly lookup: (registry: string) => Promise<Credentials | undefined>,
    private readonly fetchToken: TokenFetch,
  ) {}

  private credentials(registry: string): Promise<Credentials | undefined> {
    let p = this.creds.get(registry);
    if (!p) {
      p = this.lookup(registry);
      this.creds.set(registry, p);
    }
    return p;
  }

  private key(registry: string, ch: Challenge, scopes: string[]): string {
    return `${registry}|${ch.params.realm ?? ""}|${ch.params.service ?? ""}|${[...new Set(scopes)].sort().join(" ")}`;
  }

  /** Records the challenge a registry answered with (from a ping or a 401). */
  learn(registry: string, wwwAuthenticate: string | null): Challenge | undefined {
    if (!wwwAuthenticate) return undefined;
    const all = parseChallenges(wwwAuthenticate);
    const ch = all.find((c) => c.scheme === "bearer") ?? all.find((c) => c.scheme === "basic");
    if (ch) this.challenges.set(registry, ch);
    return ch;
  }

  /** The Authorization header for a request needing `scopes`, if the registry's scheme is known. */
  async header(registry: string, scopes: string[]): Promise<string | undefined> {
    const ch = this.challenges.get(registry);
    if (!ch) return undefined;
    const c = await this.credentials(registry);
    if (ch.scheme === "basic") return c && (c.username !== undefined || c.password !== undefined) ? basic(c) : undefined;
    if (ch.scheme !== "bearer") return undefined;
    if (c?.registryToken) return `Bearer ${c.registryToken}`;
    const key = this.key(registry, ch, scopes);
    const cached = this.tokens.get(key);
    if (cached && cached.expires > Date.now()) return `Bearer ${cached.token}`;
    let p = this.pending.get(key);
    if (!p) {
      p = this.requestToken(registry, ch, scopes, c).finally(() => this.pending.delete(key));
      this.pending.set(key, p);
    }
    return `Bearer ${await p}`;
  }

  /**
   * Handles a 401: learns the challenge (adding the scope it names) and drops the cached token
   * that failed. Returns the scopes to retry with, or undefined when there is nothing new to
   * try (no challenge, or Basic without credentials).
   */
  async unauthorized(registry: string, wwwAuthenticate: string | null, scopes: string[], failedHeader: string | undefined): Promise<string[] | undefined> {
    const ch = this.learn(registry, wwwAuthenticate) ?? this.challenges.get(registry);
    if (!ch) return undefined;
    const more = ch.params.scope ? ch.params.scope.split(" ").filter((s) => s !== "") : [];
    const want = [...new Set([...scopes, ...more])];
    if (ch.scheme === "bearer") {
      if (failedHeader) this.tokens.delete(this.key(registry, ch, want));
      if (failedHeader) this.tokens.delete(this.key(registry, ch, scopes));
      return want;
    }
    if (ch.scheme === "basic") {
      const c = await this.credentials(registry);
      if (!c || failedHeader) return undefined;
      return want;
    }
    return undefined;
  }

  private async requestToken(registry: string, ch: Challenge, scopes: string[], c: Credentials | undefined): Promise<string> {
    const realm = ch.params.realm;
    if (!realm) throw new OciError("UNAUTHORIZED", `${registry} asked for a Bearer token but named no token realm.`);
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new OciError("UNAUTHORIZED", `${registry} named an invalid token realm ${JSON.stringify(realm)}.`);
    }
    this.tokenRequests++;
    let res;
    if (c?.identityToken) {
      const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: c.identityToken, client_id: "tbuild", service: ch.params.service ?? "" });
      if (scopes.length > 0) form.set("scope", scopes.join(" "));
      res = await this.fetchToken(url, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: form.toString() });
    } else {
      if (ch.params.service) url.searchParams.set("service", ch.params.service);
      for (const s of scopes) url.searchParams.append("scope", s);
      const headers: Record<string, string> = {};
      if (c && (c.username !== undefined || c.password !== undefined)) {
        headers.authorization = basic(c);
        url.searchParams.set("account", c.username ?? "");
      }
      res = await this.fetchToken(url, { method: "GET", headers });
    }
    if (res.status === 401 || res.status === 403) {
      throw new OciError("UNAUTHORIZED", `the token server ${url.origin} refused ${c ? "the credentials" : "anonymous access"} for ${registry} (HTTP ${res.status}); log in with valid credentials.`);
    }
    if (res.status !== 200) {
      throw new OciError("REGISTRY", `the token server ${url.origin} for ${registry} answered HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`);
    }
    const body = (await res.json()) as { token?: string; access_token?: string; expires_in?: number; issued_at?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new OciError("UNAUTHORIZED", `the token server ${url.origin} for ${registry} returned no token.`);
    const lifetime = (typeof body.expires_in === "number" && body.expires_in > 0 ? body.expires_in : 60) * 1000;
    this.tokens.set(this.key(registry, ch, scopes), { token, expires: Date.now() + lifetime - EXPIRY_MARGIN_MS });
    return token;
  }
}
