import { describe, expect, it } from "vitest";
import { declineReason, parseRequest, supplementaryGroups } from "./request.js";

/** A request as tbuild-client.c encodes it. */
function encode(cwd: string, umask: string, argv: string[], env: string[]): Buffer {
  return Buffer.from([cwd, umask, String(argv.length), ...argv, ...env].map((f) => `${f}\0`).join(""));
}

const self = { startEnv: { PATH: "/usr/bin", NODE_EXTRA_CA_CERTS: "/etc/ca.pem" }, gid: process.getegid!(), groups: supplementaryGroups(process.pid)! };
const peer = { pid: process.pid, gid: process.getegid!() };

describe("a warm worker's request", () => {
  it("decodes the client's fields, '=' in values and empty arguments included", () => {
    const req = parseRequest(encode("/work", "22", ["build", "", "--build-arg", "A=b=c"], ["PATH=/usr/bin", "EMPTY=", "X=1=2"]));
    expect(req).toEqual({ cwd: "/work", umask: 0o22, argv: ["build", "", "--build-arg", "A=b=c"], env: { PATH: "/usr/bin", EMPTY: "", X: "1=2" } });
  });

  it("refuses a malformed request", () => {
    expect(() => parseRequest(Buffer.from("/work\0" + "9x\0" + "0\0"))).toThrow(/malformed/);
    expect(() => parseRequest(Buffer.from("/work\0" + "22\0" + "3\0" + "a\0"))).toThrow(/malformed/);
  });

  it("runs build, image and store commands; starts containers and compose cold", () => {
    const env = { PATH: "/usr/bin", NODE_EXTRA_CA_CERTS: "/etc/ca.pem" };
    for (const argv of [["build", "."], ["-t", "app", "."], ["--root", "/s", "push", "r"], ["images"], ["du"], ["version"]]) {
      expect(declineReason({ cwd: "/", umask: 0o22, argv, env }, peer, self)).toBeUndefined();
    }
    for (const argv of [["run", "busybox"], ["compose", "up"], ["exec", "c", "sh"], ["volume", "ls"], ["network", "ls"]]) {
      expect(declineReason({ cwd: "/", umask: 0o22, argv, env }, peer, self)).toMatch(/starts cold/);
    }
  });

  it("starts cold when Node would start differently, or the client has other groups", () => {
    const req = (env: Record<string, string>) => ({ cwd: "/", umask: 0o22, argv: ["images"], env });
    expect(declineReason(req({ PATH: "/usr/bin" }), peer, self)).toMatch(/NODE_EXTRA_CA_CERTS differs/);
    expect(declineReason(req({ PATH: "/usr/bin", NODE_EXTRA_CA_CERTS: "/etc/ca.pem", NODE_OPTIONS: "--inspect" }), peer, self)).toMatch(/NODE_OPTIONS differs/);
    // Other variables are the command's own.
    expect(declineReason(req({ PATH: "/bin", NODE_EXTRA_CA_CERTS: "/etc/ca.pem", HOME: "/x" }), peer, self)).toBeUndefined();
    expect(declineReason(req({ PATH: "/usr/bin", NODE_EXTRA_CA_CERTS: "/etc/ca.pem" }), { pid: process.pid, gid: self.gid + 1 }, self)).toMatch(/another group/);
    expect(declineReason(req({ PATH: "/usr/bin", NODE_EXTRA_CA_CERTS: "/etc/ca.pem" }), peer, { ...self, groups: [...self.groups, 4242] })).toMatch(/supplementary groups/);
  });
});
