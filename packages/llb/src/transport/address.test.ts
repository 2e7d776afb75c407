import { describe, expect, it } from "vitest";
import { parseBuilderAddress } from "./address.js";

describe("builder addresses (buildx's remote and docker drivers)", () => {
  it("reads unix, tcp with TLS files, and docker addresses", () => {
    expect(parseBuilderAddress("unix:///run/buildkit/buildkitd.sock")).toMatchObject({ kind: "buildkitd", target: "unix:///run/buildkit/buildkitd.sock" });
    expect(parseBuilderAddress("tcp://buildkitd:1234,cacert=/c/ca.pem,cert=/c/cert.pem,key=/c/key.pem")).toMatchObject({
      kind: "buildkitd", target: "buildkitd:1234", tls: { cacert: "/c/ca.pem", cert: "/c/cert.pem", key: "/c/key.pem" },
    });
    expect(parseBuilderAddress("docker://unix:///var/run/docker.sock")).toMatchObject({ kind: "docker", socketPath: "/var/run/docker.sock" });
    expect(parseBuilderAddress("docker://")).toMatchObject({ kind: "docker", socketPath: "/var/run/docker.sock" });
  });

  it.each([
    ["http://x:1", /expected unix/],
    ["tcp://host", /needs host:port/],
    ["tcp://h:1,cert=a.pem", /cert and key go together/],
    ["tcp://h:1,ca=a.pem", /unknown option "ca"/],
    ["unix://relative.sock", /must be absolute/],
    ["docker://tcp://h:2375", /unix socket/],
  ])("refuses %s with the reason", (text, why) => {
    expect(() => parseBuilderAddress(text)).toThrow(why);
  });
});
