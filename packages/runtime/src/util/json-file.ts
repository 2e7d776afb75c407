// JSON records of the runtime: written whole (temp + rename in the store's tmp dir), read
// tolerantly (a missing file is undefined).
import { mkdirSync } from "node:fs";
import { readJsonFile, writeFileAtomic } from "@tbuild/cache";
import type { RuntimeLayout } from "../layout.js";

const madeTmp = new Set<string>();

export async function writeJson(layout: RuntimeLayout, file: string, value: unknown): Promise<void> {
  // A store that only ever saw runtime commands has no tmp dir yet (the image store makes it).
  if (!madeTmp.has(layout.tmpDir)) {
    mkdirSync(layout.tmpDir, { recursive: true, mode: 0o700 });
    madeTmp.add(layout.tmpDir);
  }
  await writeFileAtomic(file, JSON.stringify(value, null, 2) + "\n", { tmpDir: layout.tmpDir });
}

export const readJson = readJsonFile;
