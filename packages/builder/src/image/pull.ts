// FROM an image that is not in the local store: pulled from its registry (then cached in
// the store under its full name, like `docker pull`).
import { parseReference, type Digest, type Platform } from "@tbuild/oci";
import type { BuildSession } from "../solve/session.js";
import { pullToStore } from "../images/pull.js";

export async function pullImage(session: BuildSession, name: string, platform: Platform): Promise<Digest> {
  const ref = parseReference(name);
  try {
    return (await pullToStore(session.store, ref, { platform, insecureRegistries: session.opts.insecureRegistries })).manifestDigest;
  } catch (e) {
    throw new Error(`failed to resolve source image ${ref.familiar}: ${(e as Error).message}`, { cause: e });
  }
}
