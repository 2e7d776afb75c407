// ADD <url> with BuildKit's HTTP auth secrets (source/http/source.go, newHTTPRequest): the
// secret HTTP_AUTH_HEADER_<hostname> is sent verbatim as Authorization, HTTP_AUTH_TOKEN_<hostname>
// as "Bearer <token>" (it is read second, so it wins when both are given); <hostname> is the
// URL's host without the port, and a missing secret sends nothing. Talks only to a server on
// 127.0.0.1. Needs root (builds run in the sandbox).
import { createServer, type Server } from "node:http";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SecretSpec } from "@tbuild/builder";
import { makeBuildEnv, type BuildEnv } from "./support/build-env.js";

let env: BuildEnv;
let server: Server;
let base: string;
/** Authorization header of each request, by path. */
const seen = new Map<string, string | undefined>();
let n = 0;

beforeAll(async () => {
  env = await makeBuildEnv();
  server = createServer((req, res) => {
    seen.set(req.url ?? "/", req.headers.authorization);
    res.writeHead(200).end("payload\n");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  env?.dispose();
});

/** Builds `ADD <fresh url> /f` with the given secrets (values as files); the header the server saw. */
async function authorizationFor(secrets: Record<string, string>): Promise<string | undefined> {
  const p = `/file${++n}`;
  const files: Record<string, string> = { Dockerfile: `FROM busybox\nADD ${base}${p} /f\n` };
  const ctx = env.context(files);
  const specs: SecretSpec[] = Object.entries(secrets).map(([id, value], i) => {
    const src = path.join(env.work, `secret-${n}-${i}`);
    writeFileSync(src, value);
    return { id, src };
  });
  await env.run({ context: ctx, secrets: specs });
  expect(seen.has(p)).toBe(true);
  return seen.get(p);
}

describe("ADD <url> with HTTP auth secrets", () => {
  it("sends HTTP_AUTH_TOKEN_<host> as a Bearer token", async () => {
    expect(await authorizationFor({ "HTTP_AUTH_TOKEN_127.0.0.1": "123456" })).toBe("Bearer 123456");
  });

  it("sends HTTP_AUTH_HEADER_<host> verbatim, and the token over it when both are given", async () => {
    expect(await authorizationFor({ "HTTP_AUTH_HEADER_127.0.0.1": "Basic dXNlcjpwdw==" })).toBe("Basic dXNlcjpwdw==");
    expect(await authorizationFor({ "HTTP_AUTH_HEADER_127.0.0.1": "Basic x", "HTTP_AUTH_TOKEN_127.0.0.1": "t" })).toBe("Bearer t");
  });

  it("matches the host name only: no port in the id, nothing for other hosts or without secrets", async () => {
    const port = new URL(base).port;
    expect(await authorizationFor({ [`HTTP_AUTH_TOKEN_127.0.0.1:${port}`]: "withport" })).toBeUndefined();
    expect(await authorizationFor({ HTTP_AUTH_TOKEN_localhost: "other" })).toBeUndefined();
    expect(await authorizationFor({})).toBeUndefined();
  });
});
