// The overlayfs mount options of a step's rootfs. The upper dir must end up a standalone
// diff that any machine can read back as a layer, so every feature that makes the upper
// depend on the lowers or on the overlay's own index is off: redirect_dir (renamed dirs
// would be xattr redirects instead of copies), metacopy (metadata-only copy-ups would leave
// data in the lowers), index. userxattr stays off (trusted.* xattrs, as the store uses).
// volatile skips the syncfs of the whole upper filesystem at unmount (tens of ms on a busy
// disk); the upper is read back through the page cache right after, and durability of what
// goes into the store is the store's job.
import { symlinkSync } from "node:fs";
import { inUserNamespace } from "@tbuild/oci";

/**
 * The options of an overlay with an upper dir. With userxattr the kernel refuses
 * redirect_dir=off and wants nofollow, which for us is the same: no redirects are made.
 */
export function overlayUpperOptions(): string[] {
  return [inUserNamespace() ? "redirect_dir=nofollow" : "redirect_dir=off", "metacopy=off", "index=off", "volatile"];
}

/** The options every overlay of this process carries: userxattr in a user namespace. */
export function overlayNamespaceOptions(): string[] {
  return inUserNamespace() ? ["userxattr"] : [];
}

/** The kernel takes at most one page of mount data; keep a margin for the other options. */
const MAX_DATA = 3800;

/** Characters that mount option parsing or overlayfs' lowerdir splitting would misread. */
const UNSAFE = /[,:\\\s"'=]/;

export interface OverlayLayout {
  lowers: string[];
  upper?: string;
  work?: string;
}

/**
 * Builds the option string for mounting `layout` with the process's working directory set
 * to `linkDir`. Absolute paths are used when they fit; otherwise (many layers, long store
 * paths, or characters the option parser would split on) short symlinks `linkDir/<prefix><n>`
 * are created to each directory and the options name them relatively — overlayfs resolves
 * them at mount time, so the page limit allows the kernel's maximum of 500 lowers.
 * `lowers` must not be empty (the kernel requires one; read-only mounts require two).
 */
export function overlayMountOptions(layout: OverlayLayout, linkDir: string, prefix: string): string {
  const all = [...layout.lowers, ...(layout.upper ? [layout.upper] : []), ...(layout.work ? [layout.work] : [])];
  const render = (names: string[]): string => {
    const lowers = names.slice(0, layout.lowers.length);
    const opts = [`lowerdir=${lowers.join(":")}`];
    let i = layout.lowers.length;
    if (layout.upper) opts.push(`upperdir=${names[i++]}`);
    if (layout.work) opts.push(`workdir=${names[i++]}`);
    if (layout.upper) opts.push(...overlayUpperOptions());
    opts.push(...overlayNamespaceOptions());
    return opts.join(",");
  };
  const direct = render(all);
  if (direct.length <= MAX_DATA && !all.some((p) => UNSAFE.test(p))) return direct;
  const names = all.map((target, n) => {
    const name = `${prefix}${n.toString(36)}`;
    symlinkSync(target, `${linkDir}/${name}`);
    return name;
  });
  return render(names);
}
