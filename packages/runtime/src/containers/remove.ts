// Removing a container: its folder and name, and with `volumes` its anonymous volumes
// (`run --rm`, `rm -v`). Named volumes always stay.
import { RuntimeLayout } from "../layout.js";
import { getVolume, removeVolume } from "../volumes/volume-store.js";
import { ContainerStore, type Container } from "./container-store.js";

export async function removeContainer(root: string, c: Container, opts: { volumes: boolean }): Promise<void> {
  const layout = new RuntimeLayout(root);
  await new ContainerStore(root).remove(c);
  if (!opts.volumes) return;
  for (const m of c.config.mounts) {
    if (m.type !== "volume" || !m.anonymous) continue;
    if (await getVolume(layout, m.name)) await removeVolume(layout, m.name, []);
  }
}

ContainerStore.autoRemoveHook = (root, c) => removeContainer(root, c, { volumes: true });
