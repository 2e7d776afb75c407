import { describe, expect, it } from "vitest";
import { envEntries, mergeEnv, parseMountFlag, parsePortFlag, parseRestart, parseSize, parseTmpfsFlag, parseVolumeFlag } from "./options.js";
import { parseSubnet } from "./networks/subnet.js";

describe("Docker's option spellings", () => {
  it("-v: host paths (absolute or ./relative) bind, names mount volumes, a lone path is anonymous", () => {
    expect(parseVolumeFlag("/h:/c:ro")).toEqual({ type: "bind", source: "/h", target: "/c", readonly: true, create: true });
    expect(parseVolumeFlag("./d:/c", "/work")).toMatchObject({ type: "bind", source: "/work/d" });
    expect(parseVolumeFlag("data:/c/:nocopy")).toEqual({ type: "volume", name: "data", target: "/c", readonly: false, nocopy: true });
    expect(parseVolumeFlag("/only")).toEqual({ type: "volume", name: "", target: "/only", readonly: false, nocopy: false });
    expect(() => parseVolumeFlag("data:rel")).toThrow(/must be absolute/);
    expect(() => parseVolumeFlag("data:/")).toThrow(/root directory/);
    expect(() => parseVolumeFlag("a:/b:xx")).toThrow(/unknown option "xx"/);
  });

  it("--mount and --tmpfs", () => {
    expect(parseMountFlag("type=bind,src=/h,dst=/c,readonly")).toEqual({ type: "bind", source: "/h", target: "/c", readonly: true, create: false });
    expect(parseMountFlag("type=volume,target=/c,volume-nocopy")).toMatchObject({ type: "volume", name: "", nocopy: true });
    expect(parseMountFlag("type=tmpfs,target=/t,tmpfs-size=64m,tmpfs-mode=1770")).toEqual({ type: "tmpfs", target: "/t", size: 64 << 20, mode: 0o1770 });
    expect(() => parseMountFlag("type=bind,target=/c")).toThrow(/needs source=/);
    expect(() => parseMountFlag("type=nfs,target=/c")).toThrow(/bind, volume or tmpfs/);
    expect(() => parseMountFlag("type=bind,src=/a,dst=/b,colour=red")).toThrow(/unknown key "colour"/);
    expect(parseTmpfsFlag("/t:size=1m,mode=700,noexec")).toEqual({ type: "tmpfs", target: "/t", size: 1 << 20, mode: 0o700 });
    expect(parseSize("1.5g", "x")).toBe(1.5 * 1024 ** 3);
  });

  it("-p: [IP:]HOST:CONTAINER[/PROTO], host port required", () => {
    expect(parsePortFlag("8080:80")).toEqual({ hostIp: "0.0.0.0", hostPort: 8080, containerPort: 80, protocol: "tcp" });
    expect(parsePortFlag("127.0.0.1:53:53/udp")).toEqual({ hostIp: "127.0.0.1", hostPort: 53, containerPort: 53, protocol: "udp" });
    expect(parsePortFlag("[::1]:8080:80")).toMatchObject({ hostIp: "::1" });
    expect(() => parsePortFlag("80")).toThrow(/tbuild does not choose ports/);
    expect(() => parsePortFlag("70000:80")).toThrow(/out of range/);
  });

  it("--restart and environment entries", () => {
    expect(parseRestart("on-failure:3")).toEqual({ name: "on-failure", maximumRetryCount: 3 });
    expect(parseRestart("always")).toEqual({ name: "always", maximumRetryCount: 0 });
    expect(() => parseRestart("always:2")).toThrow(/--restart/);
    expect(envEntries(["# c", "", "A=1", "B", "C", "  D=x y"], { B: "b" })).toEqual(["A=1", "B=b", "D=x y"]);
    expect(() => envEntries(["BAD KEY=1"])).toThrow(/invalid environment variable/);
    expect(mergeEnv(["PATH=/bin", "A=1"], ["A=2", "B=3"])).toEqual(["PATH=/bin", "A=2", "B=3"]);
  });

  it("subnets", () => {
    const s = parseSubnet("10.1.2.0/24", "--subnet");
    expect([s.gateway, s.host(2), s.lastHost, s.contains("10.1.2.200"), s.contains("10.1.3.1")]).toEqual(["10.1.2.1", "10.1.2.2", 254, true, false]);
    expect(s.overlaps(parseSubnet("10.1.0.0/16", "x"))).toBe(true);
    expect(s.overlaps(parseSubnet("10.1.3.0/24", "x"))).toBe(false);
    expect(() => parseSubnet("10.1.2.3/24", "--subnet")).toThrow(/host bits are set \(did you mean 10\.1\.2\.0\/24\?\)/);
  });
});
