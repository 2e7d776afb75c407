// ADD <url> credentials, as BuildKit's HTTP source (source/http/source.go, newHTTPRequest):
// for a URL whose host name (no port) is H, the secret HTTP_AUTH_HEADER_H is sent verbatim as
// the Authorization header and HTTP_AUTH_TOKEN_H as "Bearer <token>"; the token is applied
// second, so it wins when both exist. A secret that was not given is no error. The values
// never reach the cache key, a layer or the history.
import type { HttpOptions } from "../fileops/index.js";
import type { BuildSession } from "../solve/session.js";
import { readSecret } from "./secrets.js";

export const HTTP_AUTH_HEADER_PREFIX = "HTTP_AUTH_HEADER_";
export const HTTP_AUTH_TOKEN_PREFIX = "HTTP_AUTH_TOKEN_";

/** The host name BuildKit names the secrets after: Go's url.Hostname() (no port, no brackets). */
function hostName(u: URL): string {
  return u.hostname.replace(/^\[(.*)\]$/, "$1");
}

/** Reads the auth secrets of every http(s) source's host and returns the request-header hook. */
export async function httpAuthOptions(session: BuildSession, sources: readonly string[]): Promise<HttpOptions> {
  const byHost = new Map<string, string>();
  for (const src of sources) {
    if (!/^https?:\/\//i.test(src)) continue;
    let host: string;
    try {
      host = hostName(new URL(src));
    } catch {
      continue; // the download reports the bad URL
    }
    if (byHost.has(host)) continue;
    const header = await readSecret(session, HTTP_AUTH_HEADER_PREFIX + host);
    const token = await readSecret(session, HTTP_AUTH_TOKEN_PREFIX + host);
    const value = token !== undefined ? `Bearer ${token.toString()}` : header?.toString();
    if (value !== undefined) byHost.set(host, value);
  }
  return {
    headers: (url) => {
      const value = byHost.get(hostName(url));
      return value === undefined ? undefined : { Authorization: value };
    },
  };
}
