// JSON records of the runtime: written whole (temp + rename in the store's tmp dir), read
// tolerantly (a missing file is undefined).
import { readJsonFile, writeFileAtomic } from "@tbuild/cache";
import type { RuntimeLayout } from "../layout.js";

export async function writeJson(layout: RuntimeLayout, file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(value, null, 2) + "\n", { tmpDir: layout.tmpDir });
}

export const readJson = readJsonFile;
