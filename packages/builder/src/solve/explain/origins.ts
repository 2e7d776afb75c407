// Where a filesystem (a state's fsKey) came from in this build: a base image (name and
// manifest digest) or a step (named as progress labels it). A miss whose parent differs
// from the compared record's says which of them changed: `parent changed (step 3)`,
// `base image digest changed: app:base sha256:0f1e… → sha256:9a8b…`.
import type { StepCacheInfo, StepRef } from "../../api-types.js";
import type { BuildSession } from "../session.js";

/** As recorded beside a cache record (no build-local state). */
export type StoredOrigin = { kind: "base"; ref: string; digest: string } | { kind: "step"; name: string };

/** As known during a build: a step also says whether it ran in this build. */
export type Origin = { kind: "base"; ref: string; digest: string } | { kind: "step"; name: string; ran: boolean };

const origins = new WeakMap<BuildSession, Map<string, Origin>>();

/** Notes that `fsKey` is the result of a base image or step of this build. The first note wins. */
export function noteOrigin(session: BuildSession, fsKey: string, origin: Origin): void {
  let m = origins.get(session);
  if (!m) origins.set(session, (m = new Map()));
  if (!m.has(fsKey)) m.set(fsKey, origin);
}

export function originOf(session: BuildSession, fsKey: string | null | undefined): Origin | undefined {
  return typeof fsKey === "string" ? origins.get(session)?.get(fsKey) : undefined;
}

export function storedOrigin(o: Origin | undefined): StoredOrigin | undefined {
  if (!o) return undefined;
  return o.kind === "base" ? { kind: "base", ref: o.ref, digest: o.digest } : { kind: "step", name: o.name };
}

/**
 * `step 3` for `[3/5] RUN make`, `step builder 3` for `[builder 3/5] …`: the label's
 * bracket without the count, so the name matches what progress printed.
 */
export function stepName(step: StepRef): string {
  const m = /^\[(.*?)\]/.exec(step.label);
  // The count is padded to the width of the total (`[ 4/12]`): the padding goes too.
  return `step ${(m?.[1] ?? String(step.index + 1)).replace(/\/\d+$/, "").trim().replace(/\s+/g, " ")}`;
}

const short = (d: string) => d.replace(/^(sha256:[0-9a-f]{12})[0-9a-f]*$/, "$1");

/** Why the parent differs, given where the compared record's parent and this one's came from. */
export function describeParent(prev: StoredOrigin | undefined, cur: StoredOrigin | undefined): string {
  if (cur?.kind === "step") return `parent changed (${cur.name})`;
  if (cur?.kind === "base") {
    if (prev?.kind === "base" && prev.ref === cur.ref) return `base image digest changed: ${cur.ref} ${short(prev.digest)} → ${short(cur.digest)}`;
    if (prev?.kind === "base") return `base image changed: ${prev.ref} → ${cur.ref}`;
    return `base image changed: ${cur.ref}`;
  }
  return "parent changed";
}

/** A FROM's cache side: its key is the base image's manifest digest (undefined for a stage or scratch). */
export function fromCacheInfo(session: BuildSession, fsKey: string): StepCacheInfo | undefined {
  const o = originOf(session, fsKey);
  return o?.kind === "base" ? { key: o.digest, inputs: { image: o.ref, digest: o.digest } } : undefined;
}
