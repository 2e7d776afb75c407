// WORKDIR's directory creation, as BuildKit's Mkdir file op with parents: the path resolves
// inside the rootfs (symlinks followed), missing directories are created with mode 0755,
// owned by the stage's USER (resolved like --chown) or root, stamped with SOURCE_DATE_EPOCH
// if set (else now). Existing directories are left as they are.
import { cleanPath } from "../fs/container-path.js";
import type { LayeredView } from "../fs/layered-view.js";
import { FileOpError } from "./errors.js";
import { LayerWriter } from "./layer-writer.js";
import type { Owner } from "./users.js";

export interface MkdirOptions {
  /** Time stamp (seconds) for created directories, e.g. SOURCE_DATE_EPOCH; default now. */
  createdTime?: number;
}

/**
 * Creates `path` and its missing parents in the new layer `target.layerDir` on top of
 * `target.view`. Returns true if anything was created (false: the layer stays empty).
 */
export async function mkdirInLayer(
  target: { view: LayeredView; layerDir: string },
  path: string,
  owner?: Owner,
  opts: MkdirOptions = {},
): Promise<boolean> {
  const nowNs = opts.createdTime === undefined ? undefined : BigInt(Math.floor(opts.createdTime)) * 1_000_000_000n;
  const writer = new LayerWriter(target.layerDir, target.view, { nowNs });
  const resolved = await writer.resolve(cleanPath(path), true);
  let created: string[];
  try {
    created = await writer.mkdirAll(resolved, { mode: 0o755, uid: owner?.uid ?? 0, gid: owner?.gid ?? 0, mtimeNs: writer.nowNs });
  } catch (e) {
    if (e instanceof FileOpError) throw new FileOpError(e.code, `WORKDIR ${path}: ${e.message}`, { cause: e });
    throw e;
  }
  await writer.finish();
  return created.length > 0;
}
