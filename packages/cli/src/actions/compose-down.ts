// `tbuild compose down [-v]`: stops and removes the project's containers, then its
// networks, and with -v its named volumes and the containers' anonymous volumes.

import type { Command } from "commander";
import type { StoreFlags } from "../images/open-store.js";
import { loadProjectOf } from "../compose/project.js";
import { projectResources } from "../compose/services.js";
import { projectContainers } from "../compose/containers.js";
import { loadRuntime, rootOf } from "../containers/runtime-kit.js";

interface DownFlags extends StoreFlags {
  file?: string;
  projectName?: string;
  envFile?: string;
  volumes?: boolean;
  timeout?: string;
}

const say = (s: string) => process.stderr.write(`${s}\n`);

export default async function composeDown(cmd: Command): Promise<number> {
  const f = cmd.optsWithGlobals<DownFlags>();
  const project = loadProjectOf(f);
  const res = projectResources(project);
  const rt = await loadRuntime();
  const root = rootOf(rt, f);
  const layout = new rt.RuntimeLayout(root);
  const timeout = f.timeout === undefined ? undefined : Number(f.timeout);
  for (const c of (await projectContainers(rt, root, project.name)).reverse()) {
    await rt.stopContainer(root, c, timeout);
    await rt.removeContainerForce(root, c, { force: true, volumes: f.volumes === true });
    say(`Container ${c.config.name}  Removed`);
  }
  for (const n of res.networks.values()) {
    if (!n.create) continue;
    const rec = await rt.getNetwork(layout, n.name);
    if (!rec) continue;
    await rt.removeNetwork(layout, rec, await rt.networkUsers(root, n.name));
    say(`Network ${n.name}  Removed`);
  }
  if (f.volumes) {
    for (const v of res.volumes.values()) {
      if (!v.create || !(await rt.getVolume(layout, v.name))) continue;
      await rt.removeVolume(layout, v.name, await rt.volumeUsers(root, v.name));
      say(`Volume ${v.name}  Removed`);
    }
  }
  return 0;
}
