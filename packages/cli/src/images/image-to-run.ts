// The image a container runs: from the store, else pulled from its registry first, as
// `docker run --pull missing` (the default) and compose's `pull_policy: missing` do. The
// builder's pullToStore does the pull (the one FROM and `tbuild pull` use).
import type { Store } from "@tbuild/cache";
import { CommandError, UsageError } from "../errors.js";
import { parseImageRef } from "./image-ref.js";
import { resolveImage, type StoredImage } from "./stored-image.js";

export type PullPolicy = "missing" | "always" | "never";

export function parsePullPolicy(text: string, what = "--pull"): PullPolicy {
  if (text === "missing" || text === "always" || text === "never") return text;
  throw new UsageError(`invalid ${what} ${JSON.stringify(text)}: expected missing, always or never`);
}

export async function imageToRun(store: Store, ref: string, policy: PullPolicy, opts: { insecure?: boolean; say: (line: string) => void }): Promise<StoredImage> {
  const pull = async () => {
    const name = parseImageRef(ref);
    opts.say(`pulling ${name.toString()}`);
    const { pullToStore } = await import("@tbuild/builder/transfer");
    await pullToStore(store, name, opts.insecure ? { insecureRegistries: [name.registry] } : {});
  };
  if (policy === "always") await pull();
  try {
    return await resolveImage(store, ref);
  } catch (e) {
    // An image ID is never pulled; neither is anything under --pull never.
    if (policy !== "missing" || !(e instanceof CommandError) || /^(sha256:)?[0-9a-f]{12,64}$/.test(ref)) throw e;
  }
  opts.say(`Unable to find image '${ref}' locally`);
  await pull();
  return resolveImage(store, ref);
}
