// ADD <url> against misbehaving HTTP servers: redirect loops, redirects to file:// and to
// other hosts, bodies cut short, wrong checksums, error statuses, a URL whose last path
// component climbs ("..", encoded slashes). Each must fail the build clearly or put exactly
// the served bytes at the destination inside the image; nothing is written on the host
// outside the store, and the store's tmp/ is empty afterwards. Servers are node:http on
// 127.0.0.1 in this process. Needs root.
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Store } from "@tbuild/cache";
import { makeBuildEnv, type BuildEnv } from "../support/build-env.js";
import { attempt, expectFailure, expectSuccess } from "../support/hostile-build.js";
import { startPlainServer } from "../support/hostile-registry.js";
import { Tally } from "../support/hostile-tally.js";

let env: BuildEnv;
let server: Awaited<ReturnType<typeof startPlainServer>>;
let other: Awaited<ReturnType<typeof startPlainServer>>;
const payload = Buffer.from("served payload\n");
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

beforeAll(async () => {
  env = await makeBuildEnv();
  other = await startPlainServer((_req, res) => res.writeHead(200, { "content-length": "6" }).end("other\n"));
  server = await startPlainServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    switch (url.pathname) {
      case "/ok/file.txt": return void res.writeHead(200, { "content-length": String(payload.length) }).end(payload);
      case "/loop": return void res.writeHead(302, { location: "/loop" }).end();
      case "/to-file": return void res.writeHead(302, { location: "file:///etc/passwd" }).end();
      case "/to-other": return void res.writeHead(307, { location: `http://${other.host}/elsewhere.txt` }).end();
      case "/short": {
        res.writeHead(200, { "content-length": "100000" });
        return void res.write(Buffer.alloc(1000, 1), () => res.socket?.destroy());
      }
      case "/missing": return void res.writeHead(404).end("nope");
      case "/boom": return void res.writeHead(500).end("boom");
      default: return void res.writeHead(200, { "content-length": String(payload.length) }).end(payload);
    }
  });
});
afterAll(async () => {
  await server?.close();
  await other?.close();
  env?.dispose();
});

describe("ADD <url> from hostile servers", () => {
  it("fails clearly or adds exactly what was served, inside the image", async (ctx) => {
    const t = new Tally(ctx, "inputs");
    const u = (p: string) => `http://${server.host}${p}`;
    let n = 0;
    const run = async (line: string) => {
      const out = path.join(env.work, `add-url-${n++}`);
      const a = await attempt(env, { context: env.context({ Dockerfile: `FROM busybox\n${line}\n` }), outputs: [{ type: "local", dest: out }] });
      const store = await Store.open(env.root);
      expect(readdirSync(store.layout.tmpDir)).toEqual([]);
      await store.close();
      if (a.error) expect(a.error.message).not.toMatch(/\n\s+at /);
      return { a, out };
    };

    await t.check("a redirect loop", async () => expectFailure((await run(`ADD ${u("/loop")} /x`)).a, /redirect/i, "loop"));
    await t.check("a redirect to file://", async () => {
      const { a } = await run(`ADD ${u("/to-file")} /x`);
      expectFailure(a, /protocol|file:|unsupported/i, "file://");
      expect(a.said).not.toContain("root:x:0:0");
    });
    await t.check("a body cut short", async () => expectFailure((await run(`ADD ${u("/short")} /x`)).a, /aborted|closed|ECONNRESET|premature|short|truncat/i, "short"));
    await t.check("a 404 and a 500", async () => {
      expectFailure((await run(`ADD ${u("/missing")} /x`)).a, /404/, "404");
      expectFailure((await run(`ADD ${u("/boom")} /x`)).a, /500/, "500");
    });
    await t.check("a wrong --checksum", async () => {
      expectFailure((await run(`ADD --checksum=sha256:${sha(Buffer.from("something else"))} ${u("/ok/file.txt")} /x`)).a, /digest mismatch|checksum/i, "checksum");
    });
    await t.check("the right --checksum, through a redirect to another host", async () => {
      const { a, out } = await run(`ADD --checksum=sha256:${sha(Buffer.from("other\n"))} ${u("/to-other")} /dir/`);
      expectSuccess(a, "redirect to another host");
      expect(readFileSync(path.join(out, "dir/to-other"), "utf8")).toBe("other\n");
    });
    for (const [name, p] of [
      ["a last path component of ..", "/a/.."],
      ["an encoded climbing name", "/a/..%2f..%2f..%2ftmp%2fescaped"],
      ["an encoded absolute name", "/%2Fetc%2Fpasswd-escaped"],
    ] as const) {
      await t.check(`${name} stays inside the destination`, async () => {
        const { a, out } = await run(`ADD ${u(p)} /dl/`);
        if (process.env.TBUILD_HOSTILE_VERBOSE) console.log(`${name}: ${a.error?.message ?? readdirSync(path.join(out, "dl")).join(",")}`);
        if (a.error) return;
        expect(existsSync("/tmp/escaped")).toBe(false);
        expect(existsSync("/etc/passwd-escaped")).toBe(false);
        // Whatever name it got, it is one entry directly below /dl holding the payload.
        const names = readdirSync(path.join(out, "dl"));
        expect(names).toHaveLength(1);
        expect(readFileSync(path.join(out, "dl", names[0]!))).toEqual(payload);
      });
    }
    t.assertClean();
  });
});
