// binfmt_misc as the kernel shows it (/proc/sys/fs/binfmt_misc): the handlers that run
// files no native loader takes — qemu-user's, for foreign-platform RUN steps. One reader
// for the exec check (which files a handler takes) and the emulation check (is qemu-<arch>
// registered, enabled, with the F flag).
import { readdirSync, readFileSync } from "node:fs";

export const BINFMT_DIR = "/proc/sys/fs/binfmt_misc";

/** One handler: `magic` (with `mask`, at `offset`) for a content match, none for an extension match. */
export interface BinfmtEntry {
  name: string;
  enabled: boolean;
  flags: string;
  offset: number;
  magic?: Buffer;
  mask?: Buffer;
}

/** Parses an entry file's text ("enabled\ninterpreter …\nflags: OCF\noffset 0\nmagic …\nmask …"). */
export function parseBinfmtEntry(name: string, text: string): BinfmtEntry {
  const field = (k: string) => text.match(new RegExp(`^${k}:? (.*)$`, "m"))?.[1];
  const magic = field("magic");
  const mask = field("mask");
  return {
    name,
    enabled: /^enabled$/m.test(text),
    flags: field("flags") ?? "",
    offset: Number(field("offset") ?? 0),
    ...(magic !== undefined ? { magic: Buffer.from(magic, "hex") } : {}),
    ...(mask !== undefined ? { mask: Buffer.from(mask, "hex") } : {}),
  };
}

/** The entry `name`, or undefined when there is none (or binfmt_misc is not mounted). */
export function readBinfmtEntry(name: string): BinfmtEntry | undefined {
  try {
    return parseBinfmtEntry(name, readFileSync(`${BINFMT_DIR}/${name}`, "utf8"));
  } catch {
    return undefined;
  }
}

let cached: BinfmtEntry[] | undefined;

/**
 * Every enabled handler, read once per process. Reading them again is needed only after
 * binfmt_misc was mounted or an entry registered (`forgetBinfmtEntries`).
 */
export function enabledBinfmtEntries(): BinfmtEntry[] {
  if (cached) return cached;
  let names: string[];
  try {
    names = readdirSync(BINFMT_DIR).filter((n) => n !== "register" && n !== "status");
  } catch {
    names = [];
  }
  cached = names.map(readBinfmtEntry).filter((e): e is BinfmtEntry => e?.enabled === true);
  return cached;
}

export function forgetBinfmtEntries(): void {
  cached = undefined;
}

/** True if an enabled handler takes a file whose first bytes are `head` (an extension match takes any). */
export function binfmtTakes(head: Buffer): boolean {
  return enabledBinfmtEntries().some((e) => {
    if (!e.magic) return true; // matched by extension: cannot be told from the content
    if (head.length < e.offset + e.magic.length) return false;
    for (let i = 0; i < e.magic.length; i++) {
      const m = e.mask ? e.mask[i]! : 0xff;
      if ((head[e.offset + i]! & m) !== (e.magic[i]! & m)) return false;
    }
    return true;
  });
}
