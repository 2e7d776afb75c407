// Shared setup of the runtime end-to-end tests (test/runtime-*.test.ts): a store with a
// busybox image (createBuildEnv), a default-bridge subnet of the test file's own (files run
// at the same time, and bridges are host-wide), and the check that nothing is left behind:
// no container processes or monitors of this store, no veth, bridge, network namespace or
// NAT rule of its containers and networks, no mount under its root, no volume.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { type BuildEnv, createBuildEnv } from "../../packages/cli/test-support/build-env.js";
import type { CliOptions, CliResult } from "../../packages/cli/test-support/run-cli.js";

export interface RuntimeEnv extends BuildEnv {
  /** `tbuild --root ROOT ARGS` with the file's bridge subnet. */
  tb(args: string[], opts?: CliOptions): Promise<CliResult>;
  /** Like tb, but fails the test on a non-zero exit; returns stdout. */
  ok(args: string[], opts?: CliOptions): Promise<string>;
  /** Removes every container, network and volume of the store, then lists what is left on the host. */
  teardown(): Promise<string[]>;
}

export async function createRuntimeEnv(prefix: string, bridgeSubnet: string): Promise<RuntimeEnv> {
  const env = await createBuildEnv(prefix);
  const extra = { TBUILD_BRIDGE_SUBNET: bridgeSubnet };
  const tb = (args: string[], opts: CliOptions = {}) => env.run(args, { ...opts, env: { ...extra, ...opts.env } });
  const ok = async (args: string[], opts: CliOptions = {}) => {
    const r = await tb(args, opts);
    if (r.code !== 0) throw new Error(`tbuild ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  const interfaces = new Set<string>();
  const ids = new Set<string>();
  const remember = async () => {
    for (const n of JSON.parse(await ok(["network", "inspect", ...(await ok(["network", "ls", "-q"])).trim().split("\n")])) as { Interface: string; Driver: string }[]) {
      if (n.Driver === "bridge") interfaces.add(n.Interface);
    }
    for (const id of (await ok(["ps", "-aq", "--no-trunc"])).trim().split("\n").filter(Boolean)) ids.add(id);
  };
  return {
    ...env,
    tb,
    ok,
    async teardown() {
      await remember();
      for (const id of ids) await tb(["rm", "-f", "-v", id]);
      for (const n of (await ok(["network", "ls", "-q"])).trim().split("\n")) if (!["bridge", "host", "none"].includes(n)) await tb(["network", "rm", n]);
      await tb(["volume", "prune", "-a", "-f"]);
      const left: string[] = [];
      const links = execFileSync("ip", ["-o", "link", "show"], { encoding: "utf8" });
      for (const i of interfaces) if (links.includes(`: ${i}:`) || links.includes(`: ${i}@`)) left.push(`interface ${i}`);
      for (const id of ids) {
        const veth = `tbv${id.slice(0, 11)}`;
        if (links.includes(`: ${veth}@`) || links.includes(`: ${veth}:`)) left.push(`veth ${veth}`);
        if (existsSync(`/run/netns/tbc-${id.slice(0, 12)}`)) left.push(`netns tbc-${id.slice(0, 12)}`);
      }
      const nat = execFileSync("iptables", ["-w", "-t", "nat", "-S"], { encoding: "utf8" });
      for (const i of interfaces) if (nat.includes(`tbuild:${i}`)) left.push(`NAT rule for ${i}`);
      for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) if (line.includes(env.root)) left.push(`mount ${line}`);
      for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
        let cmd = "";
        try {
          cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
        } catch {
          continue;
        }
        if (cmd.includes("tbuild-monitor") && cmd.includes(env.root)) left.push(`monitor ${pid}`);
      }
      const vols = (await ok(["volume", "ls", "-q"])).trim();
      if (vols) left.push(`volumes ${vols}`);
      const ps = (await ok(["ps", "-aq"])).trim();
      if (ps) left.push(`containers ${ps}`);
      return left;
    },
  };
}

/** True when no process runs with `needle` in its command line (a container's marker). */
export function noProcess(needle: string): boolean {
  const r = spawnSync("pgrep", ["-f", needle]);
  return r.status !== 0;
}

/** Polls `check` until it is true (at most `tries` times, 100 ms apart); tests never assert how long that took. */
export async function until(check: () => Promise<boolean>, tries = 300): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("condition not reached");
}
