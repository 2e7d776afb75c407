import { describe, expect, it } from "vitest";
import { checkRemoteOptions } from "./unsupported-options.js";

describe("checkRemoteOptions", () => {
  const base = { context: "/tmp", builder: "docker://unix:///var/run/docker.sock" };
  it("refuses what only local builds do, naming the option and why", () => {
    expect(() => checkRemoteOptions({ ...base, cacheFrom: [{ type: "registry", ref: "r/a" }] })).toThrow(/--cache-from\/--cache-to is not supported with --builder/);
  });
  it("lets a plain build through", () => {
    expect(() => checkRemoteOptions({ ...base, platform: "linux/amd64" })).not.toThrow();
  });
});
