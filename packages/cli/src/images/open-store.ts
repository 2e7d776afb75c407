// Opening the image store for a command, with the store root from --root/TBUILD_ROOT.

import type { Store } from "@tbuild/cache";
import { parseDuration } from "../options/duration.js";

/** Global options every store command receives (commander's optsWithGlobals). */
export interface StoreFlags {
  root?: string;
}

/**
 * Opens the store at `--root` (else the default root). TBUILD_GC_GRACE (a duration)
 * overrides how old unreferenced data must be before prune removes it (default 5m):
 * the grace protects builds running at the same time, so lower it only when none are.
 */
export async function openStore(flags: StoreFlags, env: NodeJS.ProcessEnv = process.env): Promise<Store> {
  const { Store } = await import("@tbuild/cache");
  const grace = env.TBUILD_GC_GRACE;
  const gracePeriodMs = grace === undefined || grace === "" ? undefined : parseDuration(grace, "TBUILD_GC_GRACE");
  return Store.open(flags.root, gracePeriodMs === undefined ? {} : { gracePeriodMs });
}

/** Runs `fn` with an open store and closes it afterwards. */
export async function withStore<T>(flags: StoreFlags, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(flags);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

