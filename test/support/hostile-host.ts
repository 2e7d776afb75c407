// Host-side witnesses for the hostile suite: a canary (a secret file outside every context
// and rootfs, whose token must never show up anywhere tbuild writes, and which must keep
// its content and its single link), and a search of a tree for a token that also looks
// inside compressed blobs.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, lstatSync, openSync, readdirSync, readFileSync, readSync, readlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { gunzipSync } from "node:zlib";

export interface Canary {
  /** The canary directory (holds `secret.txt`). */
  dir: string;
  file: string;
  /** A random token, the whole content of the file. */
  token: string;
  /** Throws if the canary file is gone, changed or hard-linked, or anything else appeared in its directory. */
  verify(): void;
}

/** Writes a canary secret into `dir` (which must exist and be otherwise empty). */
export function plantCanary(dir: string): Canary {
  const token = `CANARY-${randomBytes(12).toString("hex")}`;
  const file = path.join(dir, "secret.txt");
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return {
    dir,
    file,
    token,
    verify() {
      const names = readdirSync(dir);
      if (names.length !== 1 || names[0] !== "secret.txt") throw new Error(`canary dir ${dir} now holds ${JSON.stringify(names)}`);
      const st = lstatSync(file);
      if (st.nlink !== 1) throw new Error(`canary ${file} gained ${st.nlink - 1} hard link(s)`);
      const content = readFileSync(file, "utf8");
      if (content !== `${token}\n`) throw new Error(`canary ${file} was changed to ${JSON.stringify(content.slice(0, 80))}`);
    },
  };
}

function head(file: string, n: number): Buffer {
  const fd = openSync(file, "r");
  try {
    const b = Buffer.alloc(n);
    return b.subarray(0, readSync(fd, b, 0, n, 0));
  } finally {
    closeSync(fd);
  }
}

/** The bytes of a file as stored and, for gzip or zstd content, decompressed. */
function contents(file: string): Buffer[] {
  const raw = readFileSync(file);
  const out = [raw];
  const magic = head(file, 4);
  try {
    if (magic[0] === 0x1f && magic[1] === 0x8b) out.push(gunzipSync(raw));
    else if (magic.readUInt32LE(0) === 0xfd2fb528) out.push(execFileSync("zstd", ["-dc", file], { maxBuffer: 1 << 30 }));
  } catch {
    // not really compressed: the raw bytes were searched
  }
  return out;
}

/**
 * Files under `dir` (symlinks not followed) whose content, decompressed when it is gzip or
 * zstd, or whose name or link target contains `needle`.
 */
export function findInTree(dir: string, needle: string): string[] {
  const hits: string[] = [];
  const walk = (d: string) => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const n of names) {
      const p = path.join(d, n);
      if (n.includes(needle)) hits.push(p);
      const st = lstatSync(p, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) walk(p);
      else if (st.isSymbolicLink()) {
        let target = "";
        try {
          target = readlinkSync(p);
        } catch {
          // removed meanwhile
        }
        if (target.includes(needle)) hits.push(p);
      } else if (st.isFile() && st.size < 200_000_000) {
        let data: Buffer[];
        try {
          data = contents(p);
        } catch {
          continue; // removed meanwhile (a live runtime dir)
        }
        if (data.some((b) => b.includes(needle))) hits.push(p);
      }
    }
  };
  walk(dir);
  return hits;
}
