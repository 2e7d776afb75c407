// `commit`: a stopped container's writable layer as a new image on top of its image
// (builder's commitDiff), with the container's command, environment, user and working dir.
import path from "node:path";
import { commitDiff } from "@tbuild/builder";
import { RuntimeError } from "../errors.js";
import { ContainerStore, type Container } from "./container-store.js";

export interface CommitRequest {
  ref: string;
  author?: string;
  message?: string;
  changes?: string[];
}

export async function commitContainer(root: string, c: Container, req: CommitRequest): Promise<{ imageId: string; name?: string }> {
  await new ContainerStore(root).refresh(c);
  if (c.state.status === "running" || c.state.status === "restarting") {
    throw new RuntimeError(`container ${c.config.name} is running; stop it first (tbuild does not pause a container to commit it)`);
  }
  const k = c.config;
  return commitDiff({
    root,
    baseManifest: k.image.manifest,
    diffDir: path.join(c.dir, "upper"),
    config: {
      Env: k.env,
      Cmd: k.cmd,
      Entrypoint: k.entrypoint.length ? k.entrypoint : null,
      WorkingDir: k.workingDir,
      User: k.user,
      Labels: k.labels,
    } as never,
    createdBy: k.args.join(" "),
    ...(req.author ? { author: req.author } : {}),
    ...(req.message ? { message: req.message } : {}),
    ...(req.changes?.length ? { changes: req.changes } : {}),
    ref: req.ref,
  });
}
