// Device nodes and fifos: Node has no mknod/mkfifo, so the extractor collects them and one
// GNU tar process creates them all (tar is part of every Debian system). The archive we feed
// it is written by our own encoder from already-resolved, cleaned paths whose parents are real
// directories inside the root, so tar never sees an untrusted name.
import { spawn } from "node:child_process";
import { OciError } from "../errors.js";
import { encodeHeader, END_OF_ARCHIVE, type TarHeader } from "../tar/header.js";

export interface SpecialFile {
  /** Real path relative to the root. */
  rel: string;
  header: TarHeader;
  /** For a hardlink to another pending special file: its real path relative to the root. */
  linkTo?: string;
}

/** Creates the given char/block devices, fifos and hardlinks to them under `root`. */
export function createSpecialFiles(root: string, files: SpecialFile[]): Promise<void> {
  const parts: Buffer[] = [];
  for (const f of files) {
    const h = f.header;
    parts.push(
      f.linkTo !== undefined
        ? encodeHeader({ name: f.rel, type: "hardlink", linkname: f.linkTo, mode: 0, uid: 0, gid: 0, size: 0, mtime: 0 })
        : encodeHeader({
            name: f.rel, type: h.type, mode: h.mode, uid: 0, gid: 0, size: 0, mtime: 0,
            devmajor: h.devmajor, devminor: h.devminor,
          }),
    );
  }
  parts.push(END_OF_ARCHIVE);
  return new Promise((resolve, reject) => {
    const child = spawn("tar", ["-x", "-f", "-", "-C", root, "--no-same-owner", "--no-overwrite-dir"], {
      stdio: ["pipe", "ignore", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (b: Buffer) => (err += b.toString()));
    child.on("error", (e) => reject(new OciError("TOOL_FAILED", `creating device nodes and fifos needs GNU tar, which could not be started (${e.message}).`, { cause: e })));
    child.on("close", (code) => {
      if (code === 0) resolve();
      else {
        const hint = process.getuid?.() !== 0 ? " (creating device nodes needs root)" : "";
        reject(new OciError("TOOL_FAILED", `creating device nodes and fifos under ${root} failed${hint}: ${err.trim().split("\n").slice(0, 3).join("; ")}`));
      }
    });
    child.stdin.on("error", () => {}); // reported through the exit status
    child.stdin.end(Buffer.concat(parts));
  });
}
