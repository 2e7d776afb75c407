// Random access to the members of a tar file on disk: one pass over the headers (contents
// are skipped, not read), then any member can be streamed by its byte range. Used to read
// oci-archive and docker-archive files without unpacking them.
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { Readable } from "node:stream";
import { OciError } from "../errors.js";
import { HeaderDecoder } from "./decode.js";
import { BLOCK, padding, type TarHeader } from "./header.js";

/** Where a regular-file member's content lies in the archive. */
export interface TarMember {
  header: TarHeader;
  /** Byte offset of the content. */
  offset: number;
  size: number;
}

/**
 * Indexes the regular files (and hardlinks, resolved to their targets) of a tar file by
 * their cleaned path ("./" and leading "/" removed). Later members replace earlier ones of the
 * same name, as extraction would.
 */
export async function indexTarFile(path: string): Promise<Map<string, TarMember>> {
  const fh = await open(path, "r");
  try {
    const { size: fileSize } = await fh.stat();
    const members = new Map<string, TarMember>();
    const dec = new HeaderDecoder();
    const block = Buffer.alloc(BLOCK);
    let pos = 0;
    for (;;) {
      const { bytesRead } = await fh.read(block, 0, BLOCK, pos);
      if (bytesRead < BLOCK) {
        throw new OciError("TRUNCATED", `${path} ends without a tar end-of-archive marker (after ${JSON.stringify(dec.last)}); the archive is truncated.`);
      }
      const d = dec.block(block, pos);
      pos += BLOCK;
      if (d.kind === "end") return members;
      if (d.kind === "meta") {
        const data = Buffer.alloc(d.size);
        const { bytesRead: n } = await fh.read(data, 0, d.size, pos);
        if (n < d.size) throw new OciError("TRUNCATED", `${path} is truncated inside an extended tar header.`);
        dec.meta(d.flag, data);
        pos += d.size + padding(d.size);
        continue;
      }
      const name = d.header.name.replace(/^\/+/, "");
      if (d.header.type === "file") {
        if (pos + d.bodySize > fileSize) throw new OciError("TRUNCATED", `${path} is truncated inside ${JSON.stringify(name)}.`);
        members.set(name, { header: d.header, offset: pos, size: d.bodySize });
      } else if (d.header.type === "hardlink" && d.header.linkname !== undefined) {
        const target = members.get(d.header.linkname.replace(/^(\.\/|\/)+/, ""));
        if (target) members.set(name, { ...target, header: d.header });
      }
      pos += d.bodySize + padding(d.bodySize);
    }
  } finally {
    await fh.close();
  }
}

/** A stream of one member's content. */
export function rangeStream(file: string, m: { offset: number; size: number }): Readable {
  return m.size === 0 ? Readable.from([]) : createReadStream(file, { start: m.offset, end: m.offset + m.size - 1 });
}
