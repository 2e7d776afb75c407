// COPY and ADD: reads the sources (build context, another stage's rootfs, URLs, heredocs)
// and writes what they put into the image into a fresh layer directory. Semantics follow
// BuildKit's Dockerfile frontend and file backend; see select.ts for which entries are read
// and copy-tree.ts for how a directory is merged. Summary of the destination rules:
//  - a relative destination is taken from WORKDIR; "", "." and a trailing "/" (or "/.")
//    name a directory;
//  - the destination's missing parents are created (mode 0755, or the octal --chmod; owner
//    --chown or root); symlinks in the destination path resolve inside the rootfs;
//  - a file goes into the destination if that is a directory, else becomes it; a
//    directory's contents merge into the destination;
//  - several sources need a directory destination (BuildKit itself would overwrite).
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { createReadStream } from "node:fs";
import { dirname, join } from "node:path";
import { baseName, cleanPath, joinPath, parentPath } from "../fs/container-path.js";
import { LayeredView } from "../fs/layered-view.js";
import { decompress, isArchive } from "./archive.js";
import { parseChmod, type ChmodFn } from "./chmod.js";
import { copySelected, type CopyPolicy } from "./copy-tree.js";
import { FileOpError, throwIfAborted } from "./errors.js";
import { download, parseChecksum, type HttpOptions } from "./http-source.js";
import { LayerWriter, type EntryMeta } from "./layer-writer.js";
import { selectWord, sourceTree, type CopySource, type SelectedSource } from "./select.js";
import { viewTree, type SourceTree } from "./source-tree.js";
import { parseGitRef, type GitRef } from "./git-ref.js";
import { checkoutGit } from "./git-source.js";
import { untar } from "./untar.js";
import { resolveChown, type Owner } from "./users.js";

export interface CopyRequest {
  op: "copy" | "add";
  /** Expanded source words (not heredocs). */
  sources: string[];
  /** Inline files (COPY <<EOF /dst): each becomes a file named `name`. */
  heredocs: { name: string; content: string }[];
  /** Expanded destination. */
  dest: string;
  /** WORKDIR, for a relative destination. */
  workdir: string;
  from: CopySource;
  /** Unresolved --chown; names are looked up in the target image. */
  chown?: string;
  chmod?: string;
  /** --link: write without looking at the target rootfs. */
  link: boolean;
  parents: boolean;
  excludes: string[];
  /** ADD --checksum (URL sources). */
  checksum?: string;
  /** ADD --unpack: undefined = default (local archives yes, URLs no). */
  unpack?: boolean;
  keepGitDir?: boolean;
  target: { view: LayeredView; layerDir: string };
  /** SOURCE_DATE_EPOCH (seconds): mtimes written are clamped to it. */
  sourceDateEpoch?: number;
  signal?: AbortSignal;
  http?: HttpOptions;
  /**
   * What selectSources returned for these sources and options, if the caller already asked
   * (for the cache key): the copy then writes exactly that instead of walking again.
   */
  selected?: SelectedSource[];
}

export interface CopyResult {
  files: number;
  bytes: number;
}

function isUrl(src: string): boolean {
  return /^https?:\/\//i.test(src);
}

/** True for git sources as BuildKit recognises them (see git-ref.ts); throws for a malformed one. */
export function isGitSource(src: string): boolean {
  return parseGitRef(src) !== undefined;
}

type Unit =
  | { kind: "local"; sel: SelectedSource }
  | { kind: "url"; url: string }
  | { kind: "git"; src: string; ref: GitRef }
  | { kind: "heredoc"; name: string; content: string };

function validate(req: CopyRequest, OP: string): void {
  if (req.checksum !== undefined && req.checksum !== "") {
    if (req.op !== "add") throw new FileOpError("BAD_FLAG", "checksum can't be specified for COPY");
    if (req.sources.length !== 1) throw new FileOpError("BAD_FLAG", "checksum can't be specified for multiple sources");
    const git = parseGitRef(req.sources[0]!);
    if (!isUrl(req.sources[0]!) && !git) throw new FileOpError("BAD_FLAG", "checksum requires HTTP(S) or Git sources");
    if (!git) parseChecksum(req.checksum);
  }
  for (const src of req.sources) {
    const ref = parseGitRef(src);
    if (ref) {
      if (req.op !== "add") throw new FileOpError("BAD_FLAG", "source can't be a git ref for COPY");
      if (req.keepGitDir !== undefined && ref.keepGitDir !== undefined && req.keepGitDir !== ref.keepGitDir) {
        throw new FileOpError("BAD_FLAG", "inconsistent keep-git-dir configuration");
      }
      if (req.checksum && ref.checksum && req.checksum !== ref.checksum) {
        throw new FileOpError("BAD_FLAG", `checksum mismatch ${JSON.stringify(req.checksum)} != ${JSON.stringify(ref.checksum)}`);
      }
    } else if (isUrl(src) && req.op !== "add") throw new FileOpError("BAD_FLAG", "source can't be a URL for COPY");
  }
}

/**
 * Runs a COPY or ADD: resolves sources, writes the result into `req.target.layerDir` (empty,
 * overlay-upper format, parent directories copied up from `req.target.view`). Throws
 * FileOpError with a user-facing message on bad input.
 */
export async function copy(req: CopyRequest): Promise<CopyResult> {
  const OP = req.op.toUpperCase();
  validate(req, OP);
  throwIfAborted(req.signal);
  const chmod: ChmodFn | undefined = req.chmod ? parseChmod(req.chmod) : undefined;
  const view = req.link ? undefined : req.target.view;
  const owner: Owner | undefined = req.chown ? await resolveChown(view, req.chown) : undefined;
  const writer = new LayerWriter(req.target.layerDir, view, { sourceDateEpoch: req.sourceDateEpoch });
  const tree = sourceTree(req.from);

  let dest = req.dest;
  const absolute = dest.startsWith("/");
  if (!absolute && (dest === "" || dest === ".")) dest = "./";
  const destIsDir = dest.endsWith("/") || dest.endsWith("/.");
  const destClean = cleanPath(absolute ? dest : req.workdir + "/" + dest);

  const units: Unit[] = [];
  let wordsWithoutMatch = 0;
  let cursor = 0;
  for (const src of req.sources) {
    const gitRef = parseGitRef(src);
    if (gitRef) {
      units.push({ kind: "git", src, ref: gitRef });
      continue;
    }
    if (isUrl(src)) {
      units.push({ kind: "url", url: src });
      continue;
    }
    let sels: SelectedSource[];
    if (req.selected) {
      const start = cursor;
      while (cursor < req.selected.length && req.selected[cursor]!.source === src) cursor++;
      sels = req.selected.slice(start, cursor);
    } else {
      sels = await selectWord(tree, src, { parents: req.parents, excludes: req.excludes, op: req.op, signal: req.signal });
    }
    if (sels.length === 0) wordsWithoutMatch++;
    for (const sel of sels) units.push({ kind: "local", sel });
  }
  for (const h of req.heredocs) units.push({ kind: "heredoc", name: h.name, content: h.content });
  if (units.length === 0 && wordsWithoutMatch > 0) throw new FileOpError("NO_SOURCES", `${OP} failed: no source files were specified`);
  if (units.length > 1 && !destIsDir && (await writer.lstat(await writer.resolve(destClean, true)))?.type !== "dir") {
    throw new FileOpError("BAD_DEST", `When using ${OP} with more than one source file, the destination must be a directory and end with a /`);
  }

  const createMeta: EntryMeta = {
    mode: chmod?.octal !== undefined ? chmod.octal & 0o777 : 0o755,
    uid: owner?.uid ?? 0,
    gid: owner?.gid ?? 0,
    mtimeNs: writer.nowNs,
  };
  const policy: CopyPolicy = { chown: owner, chmod, signal: req.signal };
  const place = new Placer(writer, destClean, destIsDir, createMeta);
  let tmp: string | undefined;
  try {
    for (const unit of units) {
      throwIfAborted(req.signal);
      if (unit.kind === "local") {
        if (req.op === "add" && req.unpack !== false && (await extractIfArchive(tree, unit.sel, place, owner, req.signal))) continue;
        await place.selected(tree, unit.sel, policy);
      } else if (unit.kind === "heredoc") {
        const name = baseName(cleanPath("/" + unit.name));
        if (name === "") throw new FileOpError("BAD_FLAG", `${OP} failed: invalid heredoc name ${JSON.stringify(unit.name)}`);
        const content = Buffer.from(unit.content);
        const meta = { ...createMeta, mode: chmod ? chmod(0o644, false) : 0o644 };
        await place.file(name, meta, content.length, (host) => writeFile(host, content, { flag: "wx" }));
      } else if (unit.kind === "git") {
        tmp ??= await mkdtemp(join(dirname(req.target.layerDir), ".tbuild-add-"));
        const dir = join(await mkdtemp(join(tmp, "g")), "checkout");
        const keepGitDir = req.keepGitDir ?? unit.ref.keepGitDir ?? false;
        await checkoutGit(unit.ref, dir, { keepGitDir, checksum: req.checksum || undefined, signal: req.signal });
        const gitTree = viewTree(new LayeredView([dir]), `git repository ${unit.ref.remote}`);
        const sels = await selectWord(gitTree, "/" + unit.ref.subdir, { parents: false, excludes: req.excludes, op: req.op, signal: req.signal });
        for (const sel of sels) await place.selected(gitTree, sel, policy);
      } else {
        tmp ??= await mkdtemp(join(dirname(req.target.layerDir), ".tbuild-add-"));
        const dlDir = await mkdtemp(join(tmp, "u"));
        const dl = await download(unit.url, dlDir, { ...req.http, checksum: req.checksum, signal: req.signal });
        if (req.unpack === true) {
          const open = async () => createReadStream(dl.path);
          const { archive, compression } = await isArchive(open);
          if (archive) {
            const dst = await place.archiveDest();
            await untar(decompress(await open(), compression), dst, writer, { chown: owner, archiveName: unit.url, signal: req.signal });
            continue;
          }
        }
        const meta = { ...createMeta, mode: chmod ? chmod(0o600, false) : 0o600, mtimeNs: dl.mtimeNs };
        await place.file(dl.name, meta, dl.size, (host) => rename(dl.path, host));
      }
    }
    await writer.finish();
  } finally {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  }
  return { files: writer.files, bytes: writer.bytes };
}

/** Applies the destination rules for each thing copied. */
class Placer {
  constructor(
    readonly writer: LayerWriter,
    private readonly dest: string,
    private readonly destIsDir: boolean,
    private readonly createMeta: EntryMeta,
  ) {}

  /** Creates the destination (dir form) or its parent, and returns the resolved destination and what is there. */
  private async prepare() {
    const ensure = this.destIsDir ? this.dest : parentPath(this.dest);
    await this.writer.mkdirAll(await this.writer.resolve(ensure, true), this.createMeta);
    const dst = await this.writer.resolve(this.dest, true);
    return { dst, st: await this.writer.lstat(dst) };
  }

  /** Where a non-directory named `name` goes (its directory created, as fsutil's prepareTargetDir does). */
  private async fileTarget(name: string): Promise<string> {
    const { dst, st } = await this.prepare();
    const target = st?.type === "dir" ? joinPath(dst, name) : dst;
    // A destination that is a dangling symlink leads to a path whose parents may not exist.
    await this.writer.mkdirAll(parentPath(target), this.createMeta);
    return target;
  }

  async file(name: string, meta: EntryMeta, size: number, produce: (host: string) => Promise<void>): Promise<void> {
    await this.writer.writeFile(await this.fileTarget(name), meta, size, produce);
  }

  /** The directory an archive is extracted into (created with the --chown owner, mode 0755). */
  async archiveDest(): Promise<string> {
    const dst = await this.writer.resolve(this.dest, true);
    await this.writer.mkdirAll(dst, { ...this.createMeta, mode: 0o755 });
    return dst;
  }

  async selected(tree: SourceTree, sel: SelectedSource, policy: CopyPolicy): Promise<void> {
    if (sel.root.type === "dir") {
      const { dst, st } = await this.prepare();
      if (st === undefined) await this.writer.mkdirAll(dst, this.createMeta);
      else if (st.type !== "dir") throw new FileOpError("BAD_DEST", `cannot copy to non-directory: ${dst}`);
      await copySelected(tree, sel, dst, this.writer, policy);
      return;
    }
    await copySelected(tree, sel, await this.fileTarget(sel.name), this.writer, policy);
  }
}

/** ADD of a local archive: extracts it into the destination instead of copying it. */
async function extractIfArchive(tree: SourceTree, sel: SelectedSource, place: Placer, owner: Owner | undefined, signal?: AbortSignal): Promise<boolean> {
  if (sel.root.type !== "file") return false;
  const open = async () => {
    const fh = await tree.openFile(sel.root);
    return fh.createReadStream();
  };
  const { archive, compression } = await isArchive(open);
  if (!archive) return false;
  const dst = await place.archiveDest();
  const name = sel.matchPath === "/" ? "/" : sel.matchPath.slice(1);
  await untar(decompress(await open(), compression), dst, place.writer, { chown: owner, archiveName: name, signal });
  return true;
}
