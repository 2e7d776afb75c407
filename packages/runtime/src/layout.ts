// Where the runtime keeps its objects, beside the image store under the same root:
//
//   <root>/containers/<id>/config.json   what was asked (image, argv, env, mounts, network …)
//   <root>/containers/<id>/state.json    what is (status, pids, exit code, times), temp + rename
//   <root>/containers/<id>/upper, work   the writable layer: an overlay upper over the image's snapshots
//   <root>/containers/<id>/container.log the output, one JSON line per chunk (Docker's json-file shape)
//   <root>/container-names/<name>        the id of the container holding a name (created O_EXCL)
//   <root>/volumes/<name>/volume.json, _data/
//   <root>/networks/<name>.json
//   <root>/locks/runtime.lock            flock held while names, volumes or networks are created or removed
import path from "node:path";

export class RuntimeLayout {
  constructor(readonly root: string) {}
  get containersDir(): string { return path.join(this.root, "containers"); }
  container(id: string): string { return path.join(this.containersDir, id); }
  get namesDir(): string { return path.join(this.root, "container-names"); }
  get volumesDir(): string { return path.join(this.root, "volumes"); }
  volume(name: string): string { return path.join(this.volumesDir, name); }
  get networksDir(): string { return path.join(this.root, "networks"); }
  network(name: string): string { return path.join(this.networksDir, `${name}.json`); }
  get lock(): string { return path.join(this.root, "locks", "runtime.lock"); }
  get tmpDir(): string { return path.join(this.root, "tmp"); }
}
