// `tbuild network …`: bridge (and macvlan/ipvlan) networks for containers.

import { type Command, Option } from "commander";
import { collect, lazyAction } from "../program-kit.js";

export function defineNetworkCommands(program: Command): void {
  const network = program.command("network").description("manage networks");
  const load = () => import("../actions/network.js");
  lazyAction(
    network.command("create").description("create a network").argument("<name>", "network name")
      .option("-d, --driver <driver>", "bridge, macvlan or ipvlan (overlay needs a swarm and is refused)", "bridge")
      .option("--subnet <cidr>", "IPv4 subnet (default: a free /24 from 172.31.0.0/16, then 10.231.0.0/16)")
      .option("--gateway <ip>", "gateway address (default: the subnet's first address)")
      .option("-o, --opt <key=value>", "driver option (macvlan/ipvlan: parent=IFACE); repeatable", collect)
      .option("--internal", "no outbound access (no NAT, no default route)")
      .option("--label <key=value>", "set a label; repeatable", collect)
      .addHelpText("after", `
Examples:
  tbuild network create appnet
  tbuild network create --subnet 10.10.0.0/24 appnet
  tbuild network create -d macvlan --subnet 192.168.50.0/24 -o parent=eth1 lan`),
    load,
  );
  lazyAction(
    network.command("ls").description("list networks").option("-q, --quiet", "only print names")
      .addOption(new Option("--format <format>", "output format").choices(["table", "json"]).default("table")),
    load,
  );
  lazyAction(network.command("inspect").description("show networks as JSON").argument("<names...>", "network names or IDs"), load);
  lazyAction(network.command("rm").description("remove networks (refused while a container is configured on one)").argument("<names...>", "network names"), load);
}
