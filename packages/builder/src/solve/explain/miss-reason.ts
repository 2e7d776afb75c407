// Why a layer step missed the cache, worked out only on a miss: the step's key inputs are
// compared with those recorded beside earlier records of the same step slot (same context,
// Dockerfile, stage and position) or made on the same parent filesystem, and the closest
// one (fewest differing inputs, newest first) names what changed. With nothing to compare,
// the reason says why: --no-cache, the parent ran in this build, the imported cache had no
// entry, or this is the first build.
import { createHash } from "node:crypto";
import path from "node:path";
import type { Digest } from "@tbuild/oci";
import type { ChangedInput, StepRef } from "../../api-types.js";
import type { BuildSession } from "../session.js";
import { digestJSON } from "../../util/digest.js";
import { diffInputs, type KeyInputs } from "./diff.js";
import { putListing, readListing, type FileListing } from "./file-listing.js";
import { originOf, storedOrigin, type StoredOrigin } from "./origins.js";

/** What a step tells the explanation beside its key inputs (nothing here is part of the key). */
export interface ExplainHints {
  /** ARG names in scope: their env entries are reported as `ARG NAME`, the others as `ENV NAME`. */
  args?: readonly string[];
  /** For a build-context COPY/ADD: the listing of the files its key covers. Called on a miss only. */
  listing?: () => Promise<FileListing | undefined>;
}

/** Kept in a layer's cache record beside its result (LayerRecordValue.explain). */
export interface ExplainNote {
  /** The inputs the key was digested from (with the build's SOURCE_DATE_EPOCH as `layerEpoch`). */
  inputs: KeyInputs;
  args?: string[];
  /** Where the parent filesystem and a COPY --from filesystem came from in that build. */
  parent?: StoredOrigin;
  from?: StoredOrigin;
  /** The context and Dockerfile it was built from (digested): records made on the same parent are compared only within it. */
  scope?: string;
  /** Blob of the context file listing (also in the record's refs, so gc keeps it with the record). */
  files?: Digest;
}

export interface MissExplanation {
  reason: string;
  changed: ChangedInput[];
  comparedWith?: string;
  /** What to record beside the new record (`files` is added by `keepListing`). */
  note: ExplainNote;
  listing?: FileListing;
}

/** Slot and parent lists keep this many keys each. */
const SLOT_KEYS = 4;
const PARENT_KEYS = 8;

/** The build's context and Dockerfile: another project's records are not this one's "previous build". */
function scopeOf(session: BuildSession): string {
  return digestJSON({ context: path.resolve(session.opts.context), dockerfile: path.resolve(session.opts.dockerfile) });
}

/** The list of keys recorded for this step's place in this Dockerfile and context. */
function slotList(session: BuildSession, step: StepRef): string {
  return `slot:${digestJSON({
    scope: scopeOf(session),
    stage: step.stage,
    step: step.id.slice(step.id.indexOf(".") + 1),
    platform: session.platforms.target,
  })}`;
}

/** The list of keys recorded on this parent filesystem by this kind of instruction. */
function parentList(inputs: KeyInputs): string {
  return `parent:${digestJSON({ parent: inputs.parent ?? null, op: inputs.op ?? null })}`;
}

/** True when the build was given caches to import. */
export function importsCache(session: BuildSession): boolean {
  return (session.opts.cacheFrom?.length ?? 0) > 0;
}

/**
 * The inputs as recorded and compared: the key's own, plus the epoch layerStep folds in.
 * Environment values are kept as digests: a build arg may carry a token, and the store
 * should not hold it in clear text for the sake of saying "ARG TOKEN changed".
 */
export function recordedInputs(session: BuildSession, inputs: KeyInputs): KeyInputs {
  const env = Array.isArray(inputs.env) ? { env: inputs.env.map((e) => (typeof e === "string" ? hashValue(e) : e)) } : {};
  return { ...inputs, ...env, layerEpoch: session.sourceDateEpoch ?? null };
}

function hashValue(entry: string): string {
  const i = entry.indexOf("=");
  if (i < 0) return entry;
  return `${entry.slice(0, i)}=sha256:${createHash("sha256").update(entry.slice(i + 1)).digest("hex")}`;
}

/**
 * Why the step missed. Never fails the build: an unreadable earlier record is skipped, and
 * any other error becomes the reason ("reason unknown: …").
 */
export async function explainMiss(
  session: BuildSession,
  step: StepRef,
  key: string,
  inputs: KeyInputs,
  hints: ExplainHints | undefined,
  why: { noCache: boolean; layerGone: boolean },
): Promise<MissExplanation> {
  try {
    return await explain(session, step, key, inputs, hints, why);
  } catch (e) {
    return { reason: `reason unknown: ${(e as Error)?.message ?? String(e)}`, changed: [], note: { inputs: recordedInputs(session, inputs), scope: scopeOf(session) } };
  }
}

async function explain(
  session: BuildSession,
  step: StepRef,
  key: string,
  inputs: KeyInputs,
  hints: ExplainHints | undefined,
  why: { noCache: boolean; layerGone: boolean },
): Promise<MissExplanation> {
  const cur = recordedInputs(session, inputs);
  const fromKey = (inputs.sourceKey as { from?: unknown } | undefined)?.from;
  const note: ExplainNote = {
    inputs: cur,
    scope: scopeOf(session),
    ...(hints?.args?.length ? { args: [...hints.args] } : {}),
    ...optional("parent", storedOrigin(originOf(session, inputs.parent as string | undefined))),
    ...optional("from", storedOrigin(originOf(session, typeof fromKey === "string" ? fromKey : undefined))),
  };
  const listing = hints?.listing ? await hints.listing() : undefined;
  const done = (reason: string, changed: ChangedInput[] = [], comparedWith?: string): MissExplanation => ({
    reason,
    changed,
    note,
    ...(comparedWith ? { comparedWith } : {}),
    ...(listing ? { listing } : {}),
  });
  if (why.noCache) return done(session.opts.noCache ? "--no-cache" : `--no-cache-filter ${step.stage}`);
  if (why.layerGone) return done("cached layer was removed from the store");

  const best = await closestRecord(session, step, key, note);
  if (best) {
    let changed = best.changed;
    if (listing && best.note.files && changed.some((c) => c.input === "sourceKey")) {
      const prev = await readListing(session.store, best.note.files);
      if (prev) changed = diffInputs(best.note.inputs, cur, { ...diffContext(best.note, note), files: { prev, cur: listing } });
    }
    const texts = [...new Set(changed.map((c) => c.text))];
    return done(texts.join("; ") || "not in cache (same inputs, another key)", changed, best.key);
  }
  const parent = originOf(session, inputs.parent as string | undefined);
  if (parent?.kind === "step" && parent.ran) return done(`parent changed (${parent.name})`, [{ input: "parent", text: `parent changed (${parent.name})` }]);
  if (importsCache(session)) return done("imported cache has no entry");
  return done("not in cache (first build)");
}

function optional<K extends string, V>(k: K, v: V | undefined): { [P in K]?: V } {
  return (v === undefined ? {} : { [k]: v }) as { [P in K]?: V };
}

function diffContext(prev: ExplainNote, cur: ExplainNote) {
  return {
    argNames: new Set([...(prev.args ?? []), ...(cur.args ?? [])]),
    parents: { prev: prev.parent, cur: cur.parent },
    fromOrigins: { prev: prev.from, cur: cur.from },
  };
}

/**
 * The earlier record with the fewest differing inputs: the slot's (newest first), then those
 * made on the same parent by the same context and Dockerfile (a step that moved).
 */
async function closestRecord(session: BuildSession, step: StepRef, key: string, note: ExplainNote) {
  const slot = await session.store.keyList(slotList(session, step));
  const onParent = await session.store.keyList(parentList(note.inputs));
  let best: { key: string; note: ExplainNote; changed: ChangedInput[] } | undefined;
  for (const k of new Set([...slot, ...onParent])) {
    if (k === key) continue;
    const prev = (await session.store.peekRecord<{ explain?: ExplainNote }>(k).catch(() => undefined))?.value.explain;
    if (!prev || typeof prev.inputs !== "object" || prev.inputs === null) continue;
    if (!slot.includes(k) && prev.scope !== note.scope) continue;
    const changed = diffInputs(prev.inputs, note.inputs, diffContext(prev, note));
    if (!best || changed.length < best.changed.length) best = { key: k, note: prev, changed };
  }
  return best;
}

/** Stores the miss's listing (if any) before the record that will reference it; returns the note to record. */
export async function keepListing(session: BuildSession, miss: MissExplanation): Promise<ExplainNote> {
  if (!miss.listing) return miss.note;
  try {
    const files = await putListing(session.store, miss.listing, (d) => session.hold({ blobs: [d] }, { pending: true }));
    return { ...miss.note, files };
  } catch {
    return miss.note; // the next miss then says "context files changed" without names
  }
}

/** After the record is written: lists its key under its slot and its parent, for the next miss. */
export async function listRecord(session: BuildSession, step: StepRef, key: string, inputs: KeyInputs): Promise<void> {
  // Hints only: a failed write costs the next miss its comparison, never this build.
  await session.store.addToKeyList(slotList(session, step), key, SLOT_KEYS).catch(() => {});
  await session.store.addToKeyList(parentList(inputs), key, PARENT_KEYS).catch(() => {});
}
