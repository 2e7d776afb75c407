// Human sizes for flags such as `--keep-storage 10GB`. Like docker (go-units
// RAMInBytes, which buildx uses for --keep-storage) the units are binary:
// 1KB = 1024 bytes, 1GB = 1024³ bytes; KiB/MiB/GiB/TiB spell the same units.

import { UsageError } from "../errors.js";

const multipliers: Record<string, number> = {
  "": 1, b: 1,
  k: 1024, kb: 1024, kib: 1024,
  m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2,
  g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3,
  t: 1024 ** 4, tb: 1024 ** 4, tib: 1024 ** 4,
  p: 1024 ** 5, pb: 1024 ** 5, pib: 1024 ** 5,
};

/** Parses `512`, `100MB`, `1.5g`, `10GiB` into bytes; `flag` names the option in errors. */
export function parseSize(text: string, flag = "size"): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const mult = m ? multipliers[m[2]!.toLowerCase()] : undefined;
  if (!m || mult === undefined) {
    throw new UsageError(`${flag}: invalid size ${JSON.stringify(text)} (examples: 512MB, 10GB, 1.5GiB)`);
  }
  const bytes = Math.floor(Number(m[1]) * mult);
  if (!Number.isSafeInteger(bytes)) throw new UsageError(`${flag}: size ${JSON.stringify(text)} is too large`);
  return bytes;
}
