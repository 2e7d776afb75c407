// FROM an image that is not in the local store: pulled from its registry.
import type { Digest, Platform } from "@tbuild/oci";
import type { BuildSession } from "../solve/session.js";

export async function pullImage(_session: BuildSession, name: string, _platform: Platform): Promise<Digest> {
  throw new Error(`image ${name} is not in the local store (pull it first, or import/load it)`);
}
