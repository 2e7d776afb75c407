// `tbuild import ROOTFS.tar REF`: a one-layer base image from a root filesystem
// tarball, like `docker import` (the builder does the work). Prints the image ID.

import { createWriteStream, existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import type { Command } from "commander";
import { UsageError } from "../errors.js";
import { parsePlatform } from "../options/platform.js";
import type { StoreFlags } from "../images/open-store.js";
import { normalizeName } from "../images/image-ref.js";

interface ImportFlags extends StoreFlags {
  change?: string[];
  message?: string;
  platform?: string;
}

export default async function importAction(cmd: Command): Promise<number> {
  const [tarArg, ref] = cmd.processedArgs as [string, string];
  const f = cmd.optsWithGlobals<ImportFlags>();
  normalizeName(ref, "image name");
  const platform = f.platform === undefined ? undefined : parsePlatform(f.platform);
  let tarPath = resolve(tarArg);
  let spool: string | undefined;
  if (tarArg === "-") {
    spool = mkdtempSync(join(tmpdir(), "tbuild-import-"));
    tarPath = join(spool, "rootfs.tar");
    await pipeline(process.stdin, createWriteStream(tarPath));
  } else if (!existsSync(tarPath)) {
    throw new UsageError(`root filesystem tarball ${tarArg} not found`);
  } else if (!statSync(tarPath).isFile()) {
    throw new UsageError(`${tarArg} is not a file (import takes a tarball of a root filesystem)`);
  }
  try {
    const { importRootfs } = await import("@tbuild/builder/transfer");
    const result = await importRootfs({
      tarPath,
      ref,
      ...(f.change?.length ? { changes: f.change } : {}),
      ...(f.message !== undefined ? { message: f.message } : {}),
      ...(platform !== undefined ? { platform } : {}),
      ...(f.root !== undefined ? { root: resolve(f.root) } : {}),
    });
    process.stdout.write(`${result.imageId}\n`);
    return 0;
  } finally {
    if (spool) rmSync(spool, { recursive: true, force: true });
  }
}
