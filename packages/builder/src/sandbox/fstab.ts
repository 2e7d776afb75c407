// The sandbox's mounts as an fstab file, so that one `mount -a -T FILE` process makes all
// of them in order (a mount process per entry would cost ~5 ms each). Paths are escaped
// the way libmount unescapes fstab fields (octal \040 for space and friends).

export interface FstabEntry {
  source: string;
  target: string;
  fstype: string;
  options: string[];
}

function escapeField(s: string): string {
  if (s.includes("\0")) throw new Error(`a path containing NUL cannot be mounted: ${JSON.stringify(s)}`);
  return s.replace(/[\\ \t\n#]/g, (c) => "\\" + c.charCodeAt(0).toString(8).padStart(3, "0"));
}

/** Renders entries as fstab lines; options must not contain whitespace or commas inside values. */
export function renderFstab(entries: readonly FstabEntry[]): string {
  return entries
    .map((e) => {
      const opts = e.options.length > 0 ? e.options.join(",") : "defaults";
      if (/\s/.test(opts)) throw new Error(`mount options must not contain whitespace: ${opts}`);
      return `${escapeField(e.source)} ${escapeField(e.target)} ${e.fstype} ${opts} 0 0\n`;
    })
    .join("");
}
