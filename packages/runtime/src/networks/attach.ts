// Connecting a container to its network, in its supervisor, before the sandbox starts:
//   none    the helper makes a new network namespace with only loopback
//   host    the host's namespace, /etc/hosts and resolv.conf
//   bridge  a network namespace bind-mounted at /run/netns/tbc-<id> (`ip netns add`), a veth
//           pair (host side on the network's Linux bridge, `eth0` inside), the next free
//           address of the subnet, a default route through the bridge's address; the bridge
//           and its outbound NAT rule (iptables MASQUERADE, commented "tbuild:<bridge>")
//           exist while at least one container is attached and go with the last one.
//   macvlan/ipvlan  the same namespace with a sub-interface of the parent as `eth0`.
// Addresses are reserved by files in <root>/networks/<name>.ips/ (O_EXCL, under the runtime
// lock); a reservation whose container is not running is reclaimed. Name resolution on a
// user-defined network is /etc/hosts (see DESIGN.md): each attached container's hosts file
// lists every attached container's address with its name, aliases and short id, and is
// rewritten in place (the sandbox binds it) whenever one attaches or detaches.
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { defaultResolvConf } from "@tbuild/builder";
import { inUserNamespace } from "@tbuild/oci";
import { RuntimeError } from "../errors.js";
import type { RuntimeLayout } from "../layout.js";
import { withRuntimeLock } from "../util/lock.js";
import { ContainerStore, supervisorAlive, type Container } from "../containers/container-store.js";
import type { ContainerConfig, NetworkAttachment } from "../containers/types.js";
import { ip, iptables, quietly } from "./host-commands.js";
import { checkNetworkChoice, type NetworkRecord } from "./network-store.js";
import { parseSubnet } from "./subnet.js";

export interface NetworkSetup {
  mode: "none" | "host" | "default";
  netns?: string;
  attachment?: NetworkAttachment;
  ipAddress?: string;
  etcHosts: string;
  resolvConf: string;
  /** Called with the host path of the container's /etc/hosts once the sandbox is prepared. */
  onHostsFile?: (file: string) => Promise<void>;
}

const LOCAL_HOSTS = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n";

const ipsDir = (layout: RuntimeLayout, network: string) => path.join(layout.networksDir, `${network}.ips`);
export const netnsName = (id: string) => `tbc-${id.slice(0, 12)}`;

/** Whether the network's containers resolve each other by name (user-defined networks, as Docker). */
const resolvesNames = (n: NetworkRecord) => !n.BuiltIn;

/** Reserves the lowest free address of the network for container `id`. */
async function reserveAddress(layout: RuntimeLayout, n: NetworkRecord, id: string, containers: ContainerStore): Promise<string> {
  const dir = ipsDir(layout, n.Name);
  await mkdir(dir, { recursive: true });
  const subnet = parseSubnet(n.Subnet, n.Name);
  const taken = new Set<string>();
  for (const f of await readdir(dir)) {
    const holder = (await readFile(path.join(dir, f), "utf8").catch(() => "")).trim();
    const c = holder === id ? undefined : await containers.load(holder, { reconcile: false }).catch(() => undefined);
    if (c && supervisorAlive(c.state)) taken.add(f);
    else await rm(path.join(dir, f), { force: true }); // stale: its container is gone or its supervisor died
  }
  for (let i = 1; i <= subnet.lastHost; i++) {
    const addr = subnet.host(i);
    if (addr === n.Gateway || taken.has(addr)) continue;
    await writeFile(path.join(dir, addr), id, { flag: "wx" });
    return addr;
  }
  throw new RuntimeError(`no free address left in network ${n.Name} (${n.Subnet})`);
}

async function bridgeUp(n: NetworkRecord): Promise<void> {
  if (await quietly(ip("link", "show", "dev", n.Interface))) return;
  const prefix = n.Subnet.split("/")[1]!;
  await ip("link", "add", n.Interface, "type", "bridge");
  await ip("addr", "add", `${n.Gateway}/${prefix}`, "dev", n.Interface);
  await ip("link", "set", n.Interface, "up");
  if (!n.Internal) await iptables(...natRule("-A", n));
}

const natRule = (op: "-A" | "-D" | "-C", n: NetworkRecord) => ["-t", "nat", op, "POSTROUTING", "-s", n.Subnet, "!", "-o", n.Interface, "-j", "MASQUERADE", "-m", "comment", "--comment", `tbuild:${n.Interface}`];

async function bridgeDown(n: NetworkRecord): Promise<void> {
  while (await quietly(iptables(...natRule("-D", n)))) { /* every copy of the rule */ }
  await quietly(ip("link", "del", n.Interface));
}

export async function attachNetwork(layout: RuntimeLayout, c: Container): Promise<NetworkSetup> {
  const cfg = c.config;
  const n = await checkNetworkChoice(layout, cfg.network);
  const ownLine = (addr: string) => `${addr}\t${cfg.hostname}\n`;
  if (n.Driver === "null") return { mode: "none", etcHosts: LOCAL_HOSTS, resolvConf: defaultResolvConf("none") };
  if (n.Driver === "host") {
    let hosts = LOCAL_HOSTS;
    try {
      hosts = readFileSync("/etc/hosts", "utf8");
    } catch {
      // the default
    }
    return { mode: "host", etcHosts: hosts, resolvConf: defaultResolvConf("host") };
  }
  if (inUserNamespace()) throw new RuntimeError(`network ${n.Name} needs root: rootless tbuild cannot make network namespaces, veths or bridges on the host (use --network none or host)`);
  const containers = new ContainerStore(layout.root);
  const ns = netnsName(cfg.id);
  const subnet = parseSubnet(n.Subnet, n.Name);
  const attachment: NetworkAttachment = { network: n.Name, netns: `/run/netns/${ns}`, prefixLength: subnet.prefix, gateway: n.Gateway };
  try {
    await withRuntimeLock(layout, async () => {
      attachment.ipAddress = await reserveAddress(layout, n, cfg.id, containers);
      if (n.Driver === "bridge") await bridgeUp(n);
    });
    await quietly(ip("netns", "del", ns)); // left by a supervisor that was killed
    await ip("netns", "add", ns);
    const inner = `tbi${cfg.id.slice(0, 11)}`;
    if (n.Driver === "bridge") {
      attachment.hostVeth = `tbv${cfg.id.slice(0, 11)}`;
      await quietly(ip("link", "del", attachment.hostVeth));
      await ip("link", "add", attachment.hostVeth, "type", "veth", "peer", "name", inner, "netns", ns);
      await ip("link", "set", attachment.hostVeth, "master", n.Interface, "up");
    } else {
      if (!(await quietly(ip("link", "show", "dev", n.Interface)))) throw new RuntimeError(`the parent interface ${n.Interface} of network ${n.Name} does not exist`);
      const mode = n.Driver === "macvlan" ? n.Options.macvlan_mode ?? "bridge" : n.Options.ipvlan_mode ?? "l2";
      try {
        await ip("link", "add", "link", n.Interface, "name", inner, "type", n.Driver, "mode", mode);
      } catch (e) {
        if (/Unknown device type/i.test((e as Error).message)) throw new RuntimeError(`this kernel has no ${n.Driver} support (module ${n.Driver}), so network ${n.Name} cannot be used here`);
        throw e;
      }
      await ip("link", "set", inner, "netns", ns);
    }
    await ip("-n", ns, "link", "set", inner, "name", "eth0");
    await ip("-n", ns, "addr", "add", `${attachment.ipAddress}/${subnet.prefix}`, "dev", "eth0");
    await ip("-n", ns, "link", "set", "eth0", "up");
    await ip("-n", ns, "link", "set", "lo", "up");
    if (!n.Internal) await ip("-n", ns, "route", "add", "default", "via", n.Gateway);
    attachment.macAddress = JSON.parse(await ip("-j", "-n", ns, "link", "show", "dev", "eth0"))[0]?.address;
  } catch (e) {
    await detachNetwork(layout, cfg, attachment);
    throw e;
  }
  return {
    mode: "default",
    netns: attachment.netns,
    attachment,
    ipAddress: attachment.ipAddress!,
    etcHosts: LOCAL_HOSTS + ownLine(attachment.ipAddress!),
    resolvConf: defaultResolvConf("none"),
    onHostsFile: async (file) => {
      attachment.hostsFile = file;
      await containers.writeState(c, { attachment });
      if (resolvesNames(n)) await withRuntimeLock(layout, () => refreshHosts(layout, n.Name, containers));
    },
  };
}

/** Rewrites the hosts file of every container attached to `network` (in place: the sandboxes bind them). */
async function refreshHosts(layout: RuntimeLayout, network: string, containers: ContainerStore): Promise<void> {
  const dir = ipsDir(layout, network);
  const members: Container[] = [];
  for (const f of await readdir(dir).catch(() => [] as string[])) {
    const holder = (await readFile(path.join(dir, f), "utf8").catch(() => "")).trim();
    const c = await containers.load(holder, { reconcile: false }).catch(() => undefined);
    if (c?.state.attachment?.network === network && c.state.attachment.hostsFile) members.push(c);
  }
  const line = (c: Container) => `${c.state.attachment!.ipAddress}\t${[...new Set([c.config.name, ...c.config.networkAliases, c.config.id.slice(0, 12), c.config.hostname])].join(" ")}\n`;
  for (const c of members) {
    const peers = members.filter((p) => p !== c).map(line).join("");
    try {
      writeFileSync(c.state.attachment!.hostsFile!, LOCAL_HOSTS + line(c) + peers);
    } catch {
      // its sandbox just ended
    }
  }
}

/** Undoes an attachment (also after a crash of the supervisor that made it). */
export async function detachNetwork(layout: RuntimeLayout, cfg: ContainerConfig, a: NetworkAttachment | undefined): Promise<void> {
  if (!a) return;
  await quietly(ip("netns", "del", path.basename(a.netns)));
  if (a.hostVeth) await quietly(ip("link", "del", a.hostVeth));
  const n = await checkNetworkChoice(layout, a.network).catch(() => undefined);
  await withRuntimeLock(layout, async () => {
    const dir = ipsDir(layout, a.network);
    if (a.ipAddress) {
      const file = path.join(dir, a.ipAddress);
      if ((await readFile(file, "utf8").catch(() => "")).trim() === cfg.id) await rm(file, { force: true });
    }
    const left = await readdir(dir).catch(() => [] as string[]);
    if (left.length === 0) {
      await rm(dir, { recursive: true, force: true });
      if (n?.Driver === "bridge") await bridgeDown(n);
    } else if (n && resolvesNames(n)) await refreshHosts(layout, n.Name, new ContainerStore(layout.root));
  });
}

ContainerStore.detachHook = (layout, c) => detachNetwork(layout, c.config, c.state.attachment);
