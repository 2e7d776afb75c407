// One lock for the runtime's shared namespaces (container names, volumes, networks).
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { lockFile } from "@tbuild/cache";
import type { RuntimeLayout } from "../layout.js";

export async function withRuntimeLock<T>(layout: RuntimeLayout, fn: () => Promise<T>): Promise<T> {
  await mkdir(path.dirname(layout.lock), { recursive: true });
  const lock = await lockFile(layout.lock);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
