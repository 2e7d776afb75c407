import { describe, expect, it } from "vitest";
import { checkRemoteOptions } from "./unsupported-options.js";

describe("checkRemoteOptions", () => {
  const base = { context: "/tmp", builder: "docker://unix:///var/run/docker.sock" };
  it("refuses what only local builds do, naming the option and why", () => {
    expect(() => checkRemoteOptions({ ...base, executor: "runc" })).toThrow(/--executor is not supported with --builder .*daemon's sandbox/);
    expect(() => checkRemoteOptions({ ...base, memory: 1 << 20 })).toThrow(/--memory\/--memory-swap\/--pids-limit/);
  });
  it("lets a plain build through", () => {
    expect(() => checkRemoteOptions({ ...base, platform: "linux/amd64" })).not.toThrow();
  });
});
