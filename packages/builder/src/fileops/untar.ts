// ADD's extraction of a local tar archive into the destination directory, with the rules of
// moby's chrootarchive.Untar (what BuildKit runs), confined the same way: entry names are
// cleaned as if the destination were the root ("../x" and "/x" land at <dest>/x); symlinks
// met while extracting resolve inside the destination (a link to "/" or ".." cannot lead
// out); hard-link targets are looked up inside it too. An entry replaces what is at its path unless both are directories.
// Owners come from the archive unless --chown is given; modes, times and PAX xattrs are kept.
import { createWriteStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import type { Readable } from "node:stream";
import { extract } from "tar-stream";
import { baseName, cleanPath, joinPath, parentPath } from "../fs/container-path.js";
import { resolveInRoot } from "../fs/resolve-symlinks.js";
import { isOverlayXattr, type Xattrs } from "../fs/xattr.js";
import { FileOpError } from "./errors.js";
import type { EntryMeta, LayerWriter } from "./layer-writer.js";
import type { Owner } from "./users.js";

export interface UntarOptions {
  /** --chown: every extracted entry gets this owner. */
  chown?: Owner;
  /** Names the archive in messages. */
  archiveName: string;
  signal?: AbortSignal;
}

function invalid(archive: string, message: string): FileOpError {
  return new FileOpError("ARCHIVE", `invalid archive ${archive}: ${message}`);
}

/**
 * A tar entry name cleaned relative to the destination, `..` stopping at it (the way the
 * chroot of moby's chrootarchive confines "../x" to "<dest>/x"); undefined for the
 * destination itself.
 */
function entryRel(name: string): string | undefined {
  const clean = cleanPath(name);
  return clean === "/" ? undefined : clean.slice(1);
}

function paxNumber(pax: Record<string, string> | null | undefined, key: string): number | undefined {
  const v = pax?.[key];
  return v !== undefined && /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : undefined;
}

/**
 * Extracts the tar stream into `dest` (a resolved directory of the merged state that exists).
 * Returns the number of entries written.
 */
export async function untar(stream: Readable, dest: string, writer: LayerWriter, opts: UntarOptions): Promise<number> {
  // V7 archives (no ustar magic) are archives too, as Go's reader accepts them.
  const ex = extract({ allowUnknownFormat: true } as Parameters<typeof extract>[0]);
  stream.on("error", (e) => ex.destroy(e));
  stream.pipe(ex);
  // Resolves a path below dest as if dest were "/": links cannot climb out of it.
  const inDest = (rel: string, followFinal: boolean) =>
    resolveInRoot(rel, async (q) => {
      const st = await writer.lstat(joinPath(dest, q));
      return st && { isSymlink: st.type === "symlink", linkTarget: st.linkTarget };
    }, followFinal).then((r) => joinPath(dest, r));
  const dirMeta = (): EntryMeta => ({ mode: 0o755, uid: 0, gid: 0, mtimeNs: writer.nowNs });
  let count = 0;
  /** The entry being extracted, for a truncation message. */
  let current: string | undefined;
  try {
    for await (const entry of ex) {
      if (opts.signal?.aborted) throw new FileOpError("ABORTED", "the file operation was cancelled", { cause: opts.signal.reason });
      const h = entry.header;
      current = h.name;
      const rel = entryRel(h.name);
      if (rel === undefined) {
        entry.resume();
        continue;
      }
      const parent = await inDest(parentPath("/" + rel), true);
      await writer.mkdirAll(parent, dirMeta());
      const target = joinPath(parent, baseName("/" + rel));
      const pax = (h as { pax?: Record<string, string> | null }).pax;
      const mtime = paxNumber(pax, "mtime");
      const xattrs: Xattrs = new Map();
      for (const [k, v] of Object.entries(pax ?? {})) {
        if (k.startsWith("SCHILY.xattr.") && !isOverlayXattr(k.slice(13))) xattrs.set(k.slice(13), Buffer.from(v, "binary"));
      }
      const meta: EntryMeta = {
        mode: (h.mode ?? 0o644) & 0o7777,
        uid: opts.chown?.uid ?? paxNumber(pax, "uid") ?? h.uid ?? 0,
        gid: opts.chown?.gid ?? paxNumber(pax, "gid") ?? h.gid ?? 0,
        mtimeNs: mtime !== undefined ? BigInt(Math.round(mtime * 1e6)) * 1000n : BigInt(h.mtime?.getTime() ?? 0) * 1_000_000n,
        xattrs,
      };
      const isDir = h.type === "directory";
      await writer.clearForArchive(target, isDir);
      switch (h.type) {
        case "directory":
          await writer.copyDir(target, meta, true);
          entry.resume();
          break;
        case "file":
        case "contiguous-file":
          await writer.writeFile(target, meta, h.size ?? 0, (host) => pipeline(entry, createWriteStream(host, { flags: "wx", mode: 0o600 })));
          break;
        case "symlink":
          await writer.symlink(target, h.linkname ?? "", meta);
          entry.resume();
          break;
        case "link": {
          const linkRel = entryRel(h.linkname ?? "");
          if (linkRel === undefined) throw invalid(opts.archiveName, `hard link ${JSON.stringify(h.name)} points at the destination itself`);
          const linked = joinPath(await inDest(parentPath("/" + linkRel), true), baseName("/" + linkRel));
          const st = await writer.lstat(linked);
          if (!st || st.type === "dir") throw invalid(opts.archiveName, `hard link ${JSON.stringify(h.name)} → ${JSON.stringify(h.linkname)}: target not found or a directory`);
          if (!st.inLayer) await writer.copyUpFile(linked);
          await writer.hardlink(target, linked);
          entry.resume();
          break;
        }
        case "character-device":
        case "block-device":
        case "fifo": {
          const major = h.devmajor ?? 0;
          const minor = h.devminor ?? 0;
          const rdev = ((major & 0xfff) << 8) | (minor & 0xff) | ((minor & ~0xff) << 12);
          await writer.special(target, h.type === "fifo" ? "fifo" : h.type === "character-device" ? "char" : "block", rdev, meta);
          entry.resume();
          break;
        }
        default:
          throw invalid(opts.archiveName, `${JSON.stringify(h.name)} has an unsupported entry type`);
      }
      count++;
      current = undefined;
    }
  } catch (e) {
    ex.destroy();
    stream.destroy();
    if (e instanceof FileOpError) throw e;
    // tar-stream's words for an archive cut short (a header may claim more than follows).
    if (/unexpected end of data/i.test((e as Error).message)) {
      throw invalid(opts.archiveName, `it ends ${current === undefined ? "inside an entry header" : `inside the content of ${JSON.stringify(current)}`}: the archive is truncated`);
    }
    throw new FileOpError("ARCHIVE", `extracting ${opts.archiveName} failed: ${(e as Error).message}`, { cause: e });
  }
  return count;
}
