// Networks: records under <root>/networks. Three are built in, as in Docker: `none` (a
// network namespace with only loopback), `host` (the host's) and `bridge` (the default
// bridge, interface tbuild0, subnet $TBUILD_BRIDGE_SUBNET or 172.30.0.0/24, no name
// resolution). `network
// create` adds bridge networks (and macvlan/ipvlan over a parent interface) with their own
// subnet; containers on a user-defined network find each other by name.
import { mkdir, readdir, rm } from "node:fs/promises";
import { createHash } from "node:crypto";
import { defaultStoreRoot } from "@tbuild/cache";
import { RuntimeError } from "../errors.js";
import type { RuntimeLayout } from "../layout.js";
import { NAME_RE } from "../util/ids.js";
import { readJson, writeJson } from "../util/json-file.js";
import { withRuntimeLock } from "../util/lock.js";
import { ip } from "./host-commands.js";
import { networkOf, parseSubnet, type Subnet } from "./subnet.js";

export interface NetworkRecord {
  Name: string;
  Id: string;
  Created: string;
  Driver: "bridge" | "macvlan" | "ipvlan" | "host" | "null";
  Scope: "local";
  /** Subnet in CIDR form and the gateway (the bridge's address). */
  Subnet: string;
  Gateway: string;
  /** The Linux bridge (bridge driver) or the parent interface (macvlan/ipvlan). */
  Interface: string;
  Options: Record<string, string>;
  Labels: Record<string, string>;
  Internal: boolean;
  /** Built in (none, host, bridge): cannot be removed. */
  BuiltIn: boolean;
}

/**
 * A network's id: the digest of the store root and the name, so that interface names made
 * from it (bridges are host-wide) differ between stores.
 */
function netId(layout: RuntimeLayout, name: string): string {
  return createHash("sha256").update(`tbuild-network\0${layout.root}\0${name}`).digest("hex");
}

/** The default bridge's interface: tbuild0 for the default store, tbd-<id> for any other. */
function defaultBridge(layout: RuntimeLayout): string {
  return layout.root === defaultStoreRoot() ? "tbuild0" : `tbd-${netId(layout, "bridge").slice(0, 11)}`;
}

function builtIn(layout: RuntimeLayout, name: "none" | "host" | "bridge"): NetworkRecord {
  const base = { Name: name, Id: netId(layout, name), Created: "1970-01-01T00:00:00Z", Scope: "local" as const, Options: {}, Labels: {}, Internal: false, BuiltIn: true };
  if (name === "bridge") {
    const s = parseSubnet(process.env.TBUILD_BRIDGE_SUBNET || "172.30.0.0/24", "TBUILD_BRIDGE_SUBNET");
    return { ...base, Driver: "bridge", Subnet: s.cidr, Gateway: s.gateway, Interface: defaultBridge(layout) };
  }
  return { ...base, Driver: name === "host" ? "host" : "null", Subnet: "", Gateway: "", Interface: "" };
}

export async function getNetwork(layout: RuntimeLayout, name: string): Promise<NetworkRecord | undefined> {
  if (name === "none" || name === "host" || name === "bridge") return builtIn(layout, name);
  if (!NAME_RE.test(name)) return undefined;
  const byName = await readJson<NetworkRecord>(layout.network(name));
  if (byName) return byName;
  // A unique id prefix, as Docker accepts.
  if (/^[0-9a-f]{4,64}$/.test(name)) {
    const all = (await listNetworks(layout)).filter((n) => n.Id.startsWith(name));
    if (all.length === 1) return all[0];
  }
  return undefined;
}

export async function listNetworks(layout: RuntimeLayout): Promise<NetworkRecord[]> {
  const files = await readdir(layout.networksDir).catch(() => [] as string[]);
  const mine: NetworkRecord[] = [];
  for (const f of files.filter((f) => f.endsWith(".json")).sort()) {
    const r = await readJson<NetworkRecord>(`${layout.networksDir}/${f}`);
    if (r) mine.push(r);
  }
  return [builtIn(layout, "bridge"), builtIn(layout, "host"), builtIn(layout, "none"), ...mine];
}

/** The network a container asks for must exist (Docker checks at create). */
export async function checkNetworkChoice(layout: RuntimeLayout, name: string): Promise<NetworkRecord> {
  if (/^container:/.test(name)) throw new RuntimeError(`--network ${name} (sharing another container's network namespace) is not supported by tbuild`);
  const n = await getNetwork(layout, name);
  if (!n) throw new RuntimeError(`network ${name} not found (see 'tbuild network ls')`);
  return n;
}

export interface CreateNetworkRequest {
  name: string;
  driver: string;
  subnet?: string;
  gateway?: string;
  options: Record<string, string>;
  labels: Record<string, string>;
  internal: boolean;
}

/** Subnets of this store's networks and of the host's interfaces (a new one must not overlap them). */
async function usedSubnets(layout: RuntimeLayout): Promise<Subnet[]> {
  const out = (await listNetworks(layout)).filter((n) => n.Subnet).map((n) => parseSubnet(n.Subnet, n.Name));
  try {
    const links = JSON.parse(await ip("-j", "-4", "addr", "show")) as { addr_info?: { local: string; prefixlen: number }[] }[];
    for (const l of links) {
      for (const a of (l.addr_info ?? []).filter((x) => x.prefixlen >= 8 && x.prefixlen <= 30)) out.push(parseSubnet(`${networkOf(a.local, a.prefixlen)}/${a.prefixlen}`, "host address"));
    }
  } catch {
    // no iproute2 JSON: this store's networks only
  }
  return out;
}

export async function createNetwork(layout: RuntimeLayout, req: CreateNetworkRequest): Promise<NetworkRecord> {
  if (!NAME_RE.test(req.name)) throw new RuntimeError(`invalid network name "${req.name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  if (["none", "host", "bridge", "default"].includes(req.name)) throw new RuntimeError(`network name ${req.name} is reserved (a built-in network)`);
  if (req.driver === "overlay") throw new RuntimeError("the overlay driver connects containers across a swarm of Docker hosts; tbuild runs containers on this host only, so it has no overlay networks (use a bridge network)");
  if (!["bridge", "macvlan", "ipvlan"].includes(req.driver)) throw new RuntimeError(`network driver "${req.driver}" is not available: tbuild has bridge, macvlan and ipvlan`);
  const parent = req.options.parent;
  if (req.driver !== "bridge") {
    if (!parent) throw new RuntimeError(`the ${req.driver} driver needs a parent interface: -o parent=IFACE`);
    if (!req.subnet) throw new RuntimeError(`the ${req.driver} driver needs --subnet (tbuild does not take addresses from the parent's network)`);
  }
  for (const k of Object.keys(req.options)) {
    const ok = req.driver === "bridge" ? ["com.docker.network.bridge.name"] : ["parent", "macvlan_mode", "ipvlan_mode"];
    if (!ok.includes(k)) throw new RuntimeError(`unknown option -o ${k} for the ${req.driver} driver (known: ${ok.join(", ")})`);
  }
  return withRuntimeLock(layout, async () => {
    if (await readJson(layout.network(req.name))) throw new RuntimeError(`network with name ${req.name} already exists`);
    const used = await usedSubnets(layout);
    let subnet: Subnet;
    if (req.subnet) {
      subnet = parseSubnet(req.subnet, "--subnet");
      const clash = used.find((u) => u.overlaps(subnet));
      if (clash && req.driver === "bridge") throw new RuntimeError(`--subnet ${req.subnet} overlaps the subnet ${clash.cidr} of another network`);
    } else {
      // 172.31.N.0/24 then 10.231.N.0/24: the first /24 no network has.
      const pool = [...Array.from({ length: 256 }, (_, i) => `172.31.${i}.0/24`), ...Array.from({ length: 256 }, (_, i) => `10.231.${i}.0/24`)];
      const free = pool.map((p) => parseSubnet(p, "pool")).find((s) => !used.some((u) => u.overlaps(s)));
      if (!free) throw new RuntimeError("no free subnet left in tbuild's pool; give one with --subnet");
      subnet = free;
    }
    const gateway = req.gateway ?? subnet.gateway;
    if (!subnet.contains(gateway)) throw new RuntimeError(`--gateway ${gateway} is not in the subnet ${subnet.cidr}`);
    const id = netId(layout, req.name);
    const rec: NetworkRecord = {
      Name: req.name, Id: id, Created: new Date().toISOString(), Driver: req.driver as NetworkRecord["Driver"], Scope: "local",
      Subnet: subnet.cidr, Gateway: gateway,
      Interface: req.driver === "bridge" ? req.options["com.docker.network.bridge.name"] ?? `tbr-${id.slice(0, 10)}` : parent!,
      Options: req.options, Labels: req.labels, Internal: req.internal, BuiltIn: false,
    };
    if (rec.Interface.length > 15) throw new RuntimeError(`bridge name ${rec.Interface} is longer than Linux's 15 characters`);
    await mkdir(layout.networksDir, { recursive: true });
    await writeJson(layout, layout.network(req.name), rec);
    return rec;
  });
}

/** Removes a network record; `usedBy` names the containers attached to it (refused unless empty). */
export async function removeNetwork(layout: RuntimeLayout, rec: NetworkRecord, usedBy: string[]): Promise<void> {
  if (rec.BuiltIn) throw new RuntimeError(`${rec.Name} is a pre-defined network and cannot be removed`);
  if (usedBy.length > 0) throw new RuntimeError(`network ${rec.Name} has active endpoints (${usedBy.join(", ")}); stop or remove those containers first`);
  await withRuntimeLock(layout, () => rm(layout.network(rec.Name), { force: true }));
}
