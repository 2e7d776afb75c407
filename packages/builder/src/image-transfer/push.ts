// Pushes an exportable image (manifest + a blob source that can re-create built layers)
// to a registry under `name`.
import { parseReference, type Digest } from "@tbuild/oci";
import type { ExportableImage } from "../export/archives.js";
import { registryClient } from "./pull.js";

export interface PushOptions {
  insecure?: boolean;
  insecureRegistries?: string[];
  signal?: AbortSignal;
}

export async function pushImage(img: ExportableImage, name: string, opts: PushOptions): Promise<Digest> {
  const ref = parseReference(name);
  const client = registryClient([...(opts.insecureRegistries ?? []), ...(opts.insecure ? [ref.registry] : [])]);
  try {
    const r = await client.push(ref, { manifest: img.manifest, manifestBytes: img.manifestBytes }, img.source);
    return r.descriptor.digest;
  } finally {
    await client.close();
  }
}
