import { lstatSync, mkdtempSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import { overlayMountOptions } from "../snapshot/overlay-options.js";
import { capMask } from "./capabilities.js";
import { defaultEtcHosts, validHostname } from "./etc-files.js";
import { renderFstab } from "./fstab.js";
import { runcSpec } from "./runc-spec.js";

describe("fstab", () => {
  it("escapes whitespace, backslashes and # in paths the way libmount unescapes them", () => {
    expect(renderFstab([{ source: "/a b", target: "/c\td\\e#f", fstype: "none", options: ["bind", "ro"] }]))
      .toBe("/a\\040b /c\\011d\\134e\\043f none bind,ro 0 0\n");
    expect(renderFstab([{ source: "proc", target: "/p", fstype: "proc", options: [] }])).toBe("proc /p proc defaults 0 0\n");
  });
  it("refuses NUL in paths and whitespace in options", () => {
    expect(() => renderFstab([{ source: "/a\0", target: "/b", fstype: "none", options: [] }])).toThrow(/NUL/);
    expect(() => renderFstab([{ source: "/a", target: "/b", fstype: "none", options: ["x y"] }])).toThrow(/whitespace/);
  });
});

describe("overlay mount options", () => {
  it("uses absolute paths when they fit", () => {
    expect(overlayMountOptions({ lowers: ["/s/a", "/s/b"], upper: "/u", work: "/w" }, "/nowhere", "l"))
      .toBe("lowerdir=/s/a:/s/b,upperdir=/u,workdir=/w,redirect_dir=off,metacopy=off,index=off,volatile");
    expect(overlayMountOptions({ lowers: ["/s/a", "/s/b"] }, "/nowhere", "l")).toBe("lowerdir=/s/a:/s/b");
  });
  it("switches to short relative links for long stacks and odd characters", () => {
    const dir = mkdtempSync(`${tmpdir()}/ovl-`);
    try {
      const lowers = Array.from({ length: 200 }, (_, i) => `/store/snapshots/sha256/${String(i).padStart(64, "0")}`);
      const opts = overlayMountOptions({ lowers, upper: "/up,per", work: "/work" }, dir, "l");
      expect(opts.length).toBeLessThan(4096);
      expect(opts.startsWith("lowerdir=l0:l1:l2:")).toBe(true);
      expect(opts).toContain(`,upperdir=l${(200).toString(36)},workdir=l${(201).toString(36)},`);
      expect(readlinkSync(`${dir}/l0`)).toBe(lowers[0]);
      expect(lstatSync(`${dir}/l${(200).toString(36)}`).isSymbolicLink()).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("small pieces", () => {
  it("turns Docker's capability set into the kernel's bit mask", () => {
    expect(capMask(["CAP_CHOWN", "CAP_NET_RAW"])).toBe((1n << 0n) | (1n << 13n));
    // 14 capabilities; CAP_SETFCAP is 31, CAP_AUDIT_WRITE 29, no CAP_SYS_ADMIN (21).
    expect(capMask().toString(2).split("").filter((c) => c === "1")).toHaveLength(14);
    expect(capMask() & (1n << 21n)).toBe(0n);
    expect(() => capMask(["CAP_NOPE"])).toThrow(/unknown capability/);
  });
  it("writes BuildKit's hosts file and checks hostnames", () => {
    expect(defaultEtcHosts("h")).toBe("127.0.0.1\tlocalhost h\n::1\tlocalhost ip6-localhost ip6-loopback\n");
    expect(validHostname("buildkitsandbox")).toBe(true);
    expect(validHostname("")).toBe(false);
    expect(validHostname("a\nb")).toBe(false);
    expect(validHostname("x".repeat(65))).toBe(false);
  });
  it("builds a runc spec with Docker's hardening and no capabilities for non-root users", () => {
    const s = runcSpec({
      rootfs: "/r", args: ["sh"], env: ["A=1"], cwd: "/w", uid: 1000, gid: 100, additionalGids: [5], hostname: "h",
      newNetwork: true, mounts: [{ destination: "/etc/hosts", type: "bind", source: "/x", options: ["rbind", "ro"] }], cgroupsPath: "/tbuild/x",
    }) as { process: { capabilities: Record<string, string[]>; noNewPrivileges: boolean; user: object; terminal: boolean }; linux: { namespaces: { type: string }[]; maskedPaths: string[]; readonlyPaths: string[] }; mounts: { destination: string }[] };
    expect(s.process.capabilities.bounding).toContain("CAP_CHOWN");
    expect(s.process.capabilities.bounding).not.toContain("CAP_SYS_ADMIN");
    expect(s.process.capabilities.effective).toEqual([]);
    expect(s.process.noNewPrivileges).toBe(false);
    expect(s.process.terminal).toBe(false);
    expect(s.process.user).toEqual({ uid: 1000, gid: 100, additionalGids: [5] });
    expect(s.linux.namespaces.map((n) => n.type)).toEqual(["pid", "ipc", "uts", "mount", "network"]);
    expect(s.linux.maskedPaths).toContain("/proc/kcore");
    expect(s.linux.readonlyPaths).toContain("/proc/sysrq-trigger");
    expect(s.mounts.map((m) => m.destination)).toEqual(["/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/etc/hosts"]);
  });
});
