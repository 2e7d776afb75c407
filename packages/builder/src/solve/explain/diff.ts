// The difference between two sets of cache-key inputs, in words. Pure: the inputs are the
// JSON the keys were digested from, so what this names as changed is exactly what made
// the keys differ. Context files are compared through their listings (path → signature).
import type { ChangedInput } from "../../api-types.js";
import { canonicalJSON } from "../../util/digest.js";
import type { FileListing } from "./file-listing.js";
import { describeParent, type StoredOrigin } from "./origins.js";

export type KeyInputs = Record<string, unknown>;

/** What the diff needs beside the two input sets. */
export interface DiffContext {
  /** ARG names in scope of either build (an env entry of one of them is an "ARG", else "ENV"). */
  argNames: ReadonlySet<string>;
  /** Where each side's parent filesystem came from. */
  parents: { prev?: StoredOrigin; cur?: StoredOrigin };
  /** Where each side's `COPY --from` filesystem came from. */
  fromOrigins?: { prev?: StoredOrigin; cur?: StoredOrigin };
  /** Each side's context file listing, when both were recorded. */
  files?: { prev: FileListing; cur: FileListing };
}

/** At most this many items per changed input are reported. */
const MAX_ITEMS = 1000;

/** How an input is named in words (the instruction's own flag where it has one). */
const NAMES: Record<string, string> = {
  op: "instruction",
  argv: "command",
  script: "heredoc script",
  cwd: "WORKDIR",
  user: "USER",
  network: "--network",
  security: "--security",
  platform: "platform",
  sources: "sources",
  heredocs: "heredoc content",
  dest: "destination",
  workdir: "WORKDIR",
  path: "WORKDIR path",
  chown: "--chown",
  chmod: "--chmod",
  link: "--link",
  parents: "--parents",
  excludes: "--exclude",
  checksum: "--checksum",
  unpack: "--unpack",
  commits: "git commit",
  sde: "SOURCE_DATE_EPOCH",
  layerEpoch: "SOURCE_DATE_EPOCH",
};

/** Every input of `cur` that differs from `prev`, in the order the step names them. */
export function diffInputs(prev: KeyInputs, cur: KeyInputs, ctx: DiffContext): ChangedInput[] {
  const out: ChangedInput[] = [];
  const names = [...Object.keys(cur), ...Object.keys(prev).filter((k) => !(k in cur))];
  // The parent first: when it changed, everything else is secondary.
  names.sort((a, b) => Number(b === "parent") - Number(a === "parent"));
  for (const name of names) {
    const a = prev[name];
    const b = cur[name];
    if (canonicalJSON(a) === canonicalJSON(b)) continue;
    switch (name) {
      case "parent":
        out.push({ input: "parent", text: describeParent(ctx.parents.prev, ctx.parents.cur) });
        break;
      case "env":
        out.push(...diffEnv(asStrings(a), asStrings(b), ctx.argNames));
        break;
      case "mounts":
        out.push(...diffMounts(asArray(a), asArray(b)));
        break;
      case "sourceKey":
        out.push(diffSourceKey(a, b, ctx));
        break;
      default:
        out.push({ input: name, text: `${NAMES[name] ?? name} changed${arrow(a, b)}` });
    }
  }
  return out;
}

/** ` (a → b)` for short scalar values; nothing for long or structured ones. */
function arrow(a: unknown, b: unknown): string {
  const show = (v: unknown) => (v === null || v === undefined ? "none" : typeof v === "string" ? v || '""' : typeof v === "number" || typeof v === "boolean" ? String(v) : undefined);
  const x = show(a);
  const y = show(b);
  if (x === undefined || y === undefined || x.length > 40 || y.length > 40) return "";
  return ` (${x} → ${y})`;
}

function asStrings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((e): e is string => typeof e === "string") : [];
}

function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** One entry per variable that was added, removed or changed; values are not shown (they may be secrets). */
function diffEnv(prev: string[], cur: string[], args: ReadonlySet<string>): ChangedInput[] {
  const toMap = (env: string[]) => new Map(env.map((e) => [e.slice(0, Math.max(0, e.indexOf("="))) || e, e]));
  const a = toMap(prev);
  const b = toMap(cur);
  const out: ChangedInput[] = [];
  for (const name of [...b.keys(), ...[...a.keys()].filter((k) => !b.has(k))]) {
    if (a.get(name) === b.get(name)) continue;
    const kind = args.has(name) ? "ARG" : "ENV";
    const what = !a.has(name) ? "set" : !b.has(name) ? "unset" : "changed";
    out.push({ input: "env", text: `${kind} ${name} ${what}`, items: [name] });
  }
  // Same variables in another order: the key differs, so say so.
  if (out.length === 0) out.push({ input: "env", text: "environment order changed" });
  return out;
}

/**
 * A mount named as its flag would be written, by what did not change: `type=cache,target=/c`,
 * `type=secret,id=npmrc` (a changed id or target is then named in the difference instead).
 */
function mountName(m: Record<string, unknown>, changed: readonly string[] = []): string {
  const parts = [`type=${String(m.type)}`];
  for (const f of ["target", "id"]) {
    if (parts.length === 1 && !changed.includes(f) && m[f] !== undefined && m[f] !== null) parts.push(`${f}=${String(m[f])}`);
  }
  return parts.join(",");
}

function diffMounts(prev: unknown[], cur: unknown[]): ChangedInput[] {
  const rec = (m: unknown) => (m ?? {}) as Record<string, unknown>;
  if (prev.length !== cur.length) {
    const before = prev.map((m) => mountName(rec(m))).join(" ") || "none";
    const after = cur.map((m) => mountName(rec(m))).join(" ") || "none";
    return [{ input: "mounts", text: `--mount changed: ${before} → ${after}` }];
  }
  const out: ChangedInput[] = [];
  for (let i = 0; i < cur.length; i++) {
    const a = rec(prev[i]);
    const b = rec(cur[i]);
    if (canonicalJSON(a) === canonicalJSON(b)) continue;
    const fields = [...new Set([...Object.keys(b), ...Object.keys(a)])].filter((f) => canonicalJSON(a[f]) !== canonicalJSON(b[f]));
    // A bind mount's content digest is not an option: its files changed.
    const words = fields.map((f) => (f === "digest" ? "source files changed" : f === "from" && b.type === "bind" ? "source stage changed" : `${f} changed${arrow(a[f], b[f])}`));
    out.push({ input: "mounts", text: `--mount ${mountName(b, fields)}: ${words.join(", ")}`, items: fields });
  }
  return out;
}

function diffSourceKey(prev: unknown, cur: unknown, ctx: DiffContext): ChangedInput {
  const a = (prev ?? {}) as Record<string, unknown>;
  const b = (cur ?? {}) as Record<string, unknown>;
  if ("from" in b && "from" in a && canonicalJSON(a.sources) === canonicalJSON(b.sources)) {
    return { input: "sourceKey", text: `--from ${describeParent(ctx.fromOrigins?.prev, ctx.fromOrigins?.cur).replace(/^parent /, "")}` };
  }
  if (!("context" in b) || !("context" in a)) return { input: "sourceKey", text: "source changed (context ↔ stage)" };
  if (!ctx.files) return { input: "sourceKey", text: "context files changed" };
  const changed = changedPaths(ctx.files.prev, ctx.files.cur);
  if (changed.length === 0) return { input: "sourceKey", text: "context files changed" };
  const more = changed.length > 1 ? ` (+${changed.length - 1} more)` : "";
  return { input: "sourceKey", text: `context files changed: ${changed[0]}${more}`, items: changed.slice(0, MAX_ITEMS) };
}

/** Paths added, removed or different (type, mode, owner, size, content or link target), sorted. */
export function changedPaths(prev: FileListing, cur: FileListing): string[] {
  const a = new Map(prev.files);
  const b = new Map(cur.files);
  const out: string[] = [];
  for (const [p, sig] of b) if (a.get(p) !== sig) out.push(p);
  for (const p of a.keys()) if (!b.has(p)) out.push(p);
  // Files before the directories that hold them would read oddly: plain path order.
  return out.sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
}
