import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseChallenges } from "./challenge.js";
import { dockerCredentials } from "./credentials.js";
import { isLoopback } from "./transport.js";

describe("WWW-Authenticate parsing", () => {
  it("parses Docker Hub's Bearer challenge", () => {
    expect(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"')).toEqual([
      { scheme: "bearer", params: { realm: "https://auth.docker.io/token", service: "registry.docker.io", scope: "repository:library/alpine:pull" } },
    ]);
  });
  it("parses several challenges, quoted commas and escapes, and token values", () => {
    expect(parseChallenges('Basic realm="a, \\"b\\"", Bearer realm=https://x/t, error=insufficient_scope')).toEqual([
      { scheme: "basic", params: { realm: 'a, "b"' } },
      { scheme: "bearer", params: { realm: "https://x/t", error: "insufficient_scope" } },
    ]);
  });
});

describe("Docker config credentials", () => {
  it("reads base64 auth, username/password and identity tokens, matching hosts and Docker Hub aliases", async () => {
    const dir = mkdtempSync("/dev/shm/oci-dockercfg-");
    try {
      writeFileSync(join(dir, "config.json"), JSON.stringify({
        auths: {
          "https://index.docker.io/v1/": { auth: Buffer.from("hub:pa:ss").toString("base64") },
          "registry.example.com:5000": { username: "u", password: "p" },
          "https://ghcr.io": { identitytoken: "refresh" },
        },
      }));
      expect(await dockerCredentials("docker.io", dir)).toEqual({ username: "hub", password: "pa:ss" });
      expect(await dockerCredentials("registry.example.com:5000", dir)).toEqual({ username: "u", password: "p" });
      expect(await dockerCredentials("ghcr.io", dir)).toEqual({ identityToken: "refresh" });
      expect(await dockerCredentials("quay.io", dir)).toBeUndefined();
      expect(await dockerCredentials("docker.io", join(dir, "missing"))).toBeUndefined();
      writeFileSync(join(dir, "config.json"), "{not json");
      await expect(dockerCredentials("docker.io", dir)).rejects.toThrow(/not valid JSON/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("loopback detection", () => {
  it.each([["localhost:5000", true], ["127.0.0.1", true], ["127.3.4.5:80", true], ["[::1]:5000", true], ["128.0.0.1", false], ["registry.local", false], ["localhost.example.com", false]])(
    "%s → %s", (h, want) => expect(isLoopback(h)).toBe(want),
  );
});
