// Where an imported cache's blobs live until a step or an output needs them: a registry
// repository, or an OCI layout directory. Fetches are verified against the descriptor.
import { createReadStream } from "node:fs";
import { promises as fsp } from "node:fs";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { Writable } from "node:stream";
import { OciError, VerifyStream, type Descriptor, type ImageReference, type RegistryClient } from "@tbuild/oci";

export interface BlobRemote {
  /** Shown in warnings, e.g. `registry 127.0.0.1:5000/app:cache`. */
  readonly name: string;
  /** Streams the blob into `sink` (ended when complete and verified). */
  fetch(desc: Descriptor, sink: Writable): Promise<void>;
  /** A registry repository holding the blob: a push to that registry can mount it. */
  readonly repository?: { registry: string; repository: string };
}

export function registryRemote(client: RegistryClient, ref: ImageReference, name: string): BlobRemote {
  return {
    name,
    fetch: (desc, sink) => client.fetchBlob(ref, desc, sink),
    repository: { registry: ref.registry, repository: ref.repository },
  };
}

/** Blobs of an OCI layout directory (`blobs/<alg>/<hex>`). */
export function layoutRemote(dir: string): BlobRemote {
  return {
    name: `local cache ${dir}`,
    fetch: async (desc, sink) => {
      // The digest comes from the cache's own index: never let it name a path outside blobs/.
      if (!/^sha256:[0-9a-f]{64}$/.test(desc.digest)) throw new OciError("INVALID_FORMAT", `${dir}: ${JSON.stringify(desc.digest)} is not a sha256 digest`);
      const file = path.join(dir, "blobs", "sha256", desc.digest.slice("sha256:".length));
      await pipeline(createReadStream(file), new VerifyStream(desc.digest, desc.size, `blob ${desc.digest} of ${dir}`), sink);
    },
  };
}

/** Reads a small blob of a layout directory (index, config), verified. */
export async function readLayoutBlob(dir: string, desc: Descriptor, max = 32 << 20): Promise<Buffer> {
  if (desc.size > max) throw new OciError("TOO_LARGE", `blob ${desc.digest} of ${dir} is larger than ${max} bytes`);
  const parts: Buffer[] = [];
  await layoutRemote(dir).fetch(desc, new Writable({ write(c: Buffer, _e, cb) { parts.push(c); cb(); } }));
  return Buffer.concat(parts);
}

/** True when `dir` looks like an OCI layout (has `index.json`). */
export async function isLayout(dir: string): Promise<boolean> {
  return fsp.stat(path.join(dir, "index.json")).then((s) => s.isFile(), () => false);
}
