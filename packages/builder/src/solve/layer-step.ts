// The cache protocol every layer-producing step follows: look the key up; on a hit reuse
// the recorded layer without running anything; on a miss produce the layer into a fresh
// snapshot draft, commit it, and record it under the key.
import type { SnapshotDraft } from "@tbuild/cache";
import type { Digest } from "@tbuild/oci";
import type { StepRef } from "../api-types.js";
import { chainOf, commitLayerDraft, snapshotFromSibling } from "../image-state/layers.js";
import { withLayer, type ImageState } from "../image-state/state.js";
import type { BuildSession } from "./session.js";
import { digestJSON } from "../util/digest.js";

/** What the cache index holds for a layer step. */
export interface LayerRecordValue {
  diffID: Digest;
  size: number;
  created: string;
}

/** Top chain ID of a state (undefined for an empty rootfs). */
export function topChain(s: ImageState): Digest | undefined {
  return s.fsKey === "scratch" ? undefined : (s.fsKey as Digest);
}

/**
 * Steps being produced in this process, by store and key. A second build (or stage) that
 * reaches the same key meanwhile waits for the first and then takes its result from the
 * cache, as BuildKit merges identical in-flight operations — so two services of a compose
 * file share the layers of their common steps instead of making two different ones.
 */
const inflight = new Map<string, Promise<unknown>>();

/**
 * Runs one layer step through the cache. `produce` fills the draft (overlay-upper format)
 * and may throw; the draft is then discarded.
 */
export async function layerStep(
  session: BuildSession,
  step: StepRef,
  state: ImageState,
  opts: { key: string; createdBy: string; noCache: boolean },
  produce: (draft: SnapshotDraft) => Promise<void>,
): Promise<ImageState> {
  // SOURCE_DATE_EPOCH clamps the times in every layer's tar (commitLayerDraft), so it is an
  // input of every layer: a layer made without it (or with another) is not this step's.
  if (session.sourceDateEpoch !== undefined) opts = { ...opts, key: digestJSON({ key: opts.key, sde: session.sourceDateEpoch }) };
  const flightKey = `${session.store.root}\0${opts.key}`;
  for (let running = inflight.get(flightKey); running; running = inflight.get(flightKey)) await running.catch(() => {});
  const work = runLayerStep(session, step, state, opts, produce);
  inflight.set(flightKey, work);
  try {
    return await work;
  } finally {
    if (inflight.get(flightKey) === work) inflight.delete(flightKey);
  }
}

async function runLayerStep(
  session: BuildSession,
  step: StepRef,
  state: ImageState,
  opts: { key: string; createdBy: string; noCache: boolean },
  produce: (draft: SnapshotDraft) => Promise<void>,
): Promise<ImageState> {
  const { store } = session;
  const parentChain = topChain(state);
  const started = Date.now();
  session.emit({ type: "step-start", step, time: started });
  if (!opts.noCache) {
    const hit = await store.lookup<LayerRecordValue>(opts.key);
    if (hit) {
      const v = hit.value;
      // The snapshot of this parent chain must exist (a --link record is shared by
      // different parents); the lease keeps it from a concurrent prune from now on.
      const chainID = chainOf(parentChain, v.diffID);
      const missing = await session.hold({ snapshots: [chainID] });
      // A --link layer found below another parent: the same layer, a new chain to snapshot.
      const sibling = () => snapshotFromSibling(store, hit.refs.snapshots, v.diffID, chainID, parentChain, (refs, pending) => session.hold(refs, { pending }));
      if (!missing.snapshots.includes(chainID) || (await sibling())) {
        session.emit({ type: "step-cached", step, time: Date.now(), source: "local" });
        session.recordStep(step, "cached", Date.now() - started);
        return resolved(session, opts.key, withLayer(state, { diffID: v.diffID, size: v.size }, chainID, opts.createdBy, v.created));
      }
    }
    const imported = await importedHit(session, opts.key, state, opts.createdBy);
    if (imported) {
      session.emit({ type: "step-cached", step, time: Date.now(), source: imported.source });
      session.recordStep(step, "cached", Date.now() - started);
      return resolved(session, opts.key, imported.state);
    }
  }
  session.throwIfAborted();
  const draft = await store.prepareSnapshot();
  let layer;
  try {
    await produce(draft);
    session.throwIfAborted();
    layer = await commitLayerDraft(store, draft, parentChain, session.sourceDateEpoch, (refs) => session.hold(refs, { pending: true }));
  } catch (e) {
    await store.abortSnapshot(draft).catch(() => {});
    throw e;
  }
  const created = session.sourceDateEpoch !== undefined ? new Date(session.sourceDateEpoch * 1000).toISOString() : new Date().toISOString();
  const value: LayerRecordValue = { diffID: layer.diffID, size: layer.size, created };
  await store.record(opts.key, { value, refs: { snapshots: [layer.chainID] } });
  const durationMs = Date.now() - started;
  session.emit({ type: "step-done", step, status: "ran", durationMs, time: Date.now() });
  session.recordStep(step, "ran", durationMs);
  return resolved(session, opts.key, withLayer(state, { diffID: layer.diffID, size: layer.size }, layer.chainID, opts.createdBy, created));
}

/** Notes a resolved layer step for --cache-to, and hands its state on. */
function resolved(session: BuildSession, key: string, state: ImageState): ImageState {
  session.layerRecords.push({ key, layers: state.layers, created: state.created });
  return state;
}

/**
 * A hit in an imported cache: the layer is described (blob, diffID) but not fetched; its
 * snapshot is made only if a later step runs on it (session.layerDirs), and the local
 * cache records the key then.
 */
async function importedHit(session: BuildSession, key: string, state: ImageState, createdBy: string) {
  const imports = await session.imports;
  const hit = imports?.lookup(key);
  if (!hit) return undefined;
  const chainID = chainOf(topChain(state), hit.diffID);
  session.lazy.register(hit.blob, hit.remote, { chainID, key, value: { diffID: hit.diffID, size: hit.size, created: hit.created } });
  return { source: hit.source, state: withLayer(state, { diffID: hit.diffID, size: hit.size, blob: hit.blob }, chainID, createdBy, hit.created) };
}
