// Which containers use a volume or a network (removal is refused while any does), and the
// store root the commands work on.
import path from "node:path";
import { defaultStoreRoot } from "@tbuild/cache";
import { ContainerStore } from "./containers/container-store.js";

/** The store root of a command (absolute: monitors and state files keep it). */
export function resolveRoot(root: string | undefined): string {
  return path.resolve(root ?? defaultStoreRoot());
}

/** Names of the containers (any state) that mount volume `name`. */
export async function volumeUsers(root: string, name: string): Promise<string[]> {
  return (await new ContainerStore(root).list()).filter((c) => c.config.mounts.some((m) => m.type === "volume" && m.name === name)).map((c) => c.config.name);
}

/** Names of the containers (any state) configured on network `name`. */
export async function networkUsers(root: string, name: string): Promise<string[]> {
  return (await new ContainerStore(root).list()).filter((c) => c.config.network === name).map((c) => c.config.name);
}
