// User and group resolution against an image's /etc/passwd and /etc/group. Two rule sets,
// as in BuildKit:
//  - USER (the identity RUN steps run as) follows runc/moby's GetExecUser: a name or a uid
//    is looked up; without an explicit group the user's primary group applies and its
//    memberships in /etc/group become supplementary groups.
//  - --chown (owner of copied files) follows llb.WithUser: a number needs no lookup and
//    alone means uid = gid; a name takes uid and primary gid from /etc/passwd.
import type { LayeredView } from "../fs/layered-view.js";
import { FileOpError } from "./errors.js";
import { readGroup, readPasswd, type GroupEntry, type PasswdEntry } from "./passwd.js";

export interface ResolvedUser {
  uid: number;
  gid: number;
  /** Supplementary groups, the primary gid first (containerd and BuildKit always include it). */
  additionalGids: number[];
}

export interface Owner {
  uid: number;
  gid: number;
}

const MAX_ID = 2 ** 31 - 1;

/** A decimal id as Go's strconv.Atoi sees it: undefined if not numeric; throws if out of range. */
function numericId(s: string, what: string, spec: string): number | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const n = Number(s);
  if (n < 0 || n > MAX_ID) throw new FileOpError("BAD_FLAG", `invalid ${what} "${s}" in "${spec}": numerical result out of range`);
  return n;
}

/** uid/gid fast path: both parts numbers (or "root"), as BuildKit's ParseUIDGID. */
function fastPath(spec: string): Owner | undefined {
  const parts = spec.split(":");
  if (parts.length !== 2) return undefined;
  const id = (s: string) => (s === "root" ? 0 : /^\d+$/.test(s) && Number(s) <= 0xffffffff ? Number(s) : undefined);
  const uid = id(parts[0]!);
  const gid = id(parts[1]!);
  return uid === undefined || gid === undefined ? undefined : { uid, gid };
}

function withPrimary(gid: number, sgids: number[]): number[] {
  return sgids.includes(gid) ? sgids : [gid, ...sgids];
}

/**
 * Resolves a USER value ("user", "uid", "user:group", "uid:gid", "user:gid", "uid:group";
 * "" means root) for RUN. Unknown names are an error; a numeric uid without a passwd entry
 * runs with gid 0; supplementary groups come from /etc/group memberships when no group is
 * given.
 */
export async function resolveUser(view: LayeredView, spec: string): Promise<ResolvedUser> {
  const isDefault = spec === "";
  const userSpec = isDefault ? "0" : spec;
  const fast = fastPath(userSpec);
  if (fast) return { ...fast, additionalGids: [fast.gid] };
  try {
    const [passwd, group] = await Promise.all([readPasswd(view), readGroup(view)]);
    const u = execUser(userSpec, passwd ?? [], group ?? []);
    return { uid: u.uid, gid: u.gid, additionalGids: withPrimary(u.gid, u.sgids) };
  } catch (e) {
    if (isDefault) return { uid: 0, gid: 0, additionalGids: [0] };
    if (e instanceof FileOpError) throw e;
    throw new FileOpError("UNKNOWN_USER", `unable to read the user database of the image for USER ${spec}: ${(e as Error).message}`);
  }
}

function execUser(spec: string, passwd: PasswdEntry[], group: GroupEntry[]): { uid: number; gid: number; sgids: number[] } {
  const colon = spec.indexOf(":");
  const userArg = colon < 0 ? spec : spec.slice(0, colon);
  const groupArg = colon < 0 ? "" : spec.slice(colon + 1).split(":")[0]!;
  const uidArg = userArg === "" ? undefined : numericId(userArg, "user id", spec);
  const gidArg = groupArg === "" ? undefined : numericId(groupArg, "group id", spec);

  let uid = 0;
  let gid = 0;
  let matchedName = "";
  if (userArg !== "") {
    const entry = passwd.find((u) => (uidArg !== undefined ? u.uid === uidArg : u.name === userArg));
    if (entry) {
      matchedName = entry.name;
      uid = entry.uid;
      gid = entry.gid;
    } else if (uidArg !== undefined) {
      uid = uidArg;
    } else {
      throw new FileOpError("UNKNOWN_USER", `unable to find user ${userArg}: no matching entries in passwd file`);
    }
  }
  let sgids: number[] = [];
  if (groupArg !== "") {
    const entry = group.find((g) => (gidArg !== undefined ? g.gid === gidArg : g.name === groupArg));
    if (entry) gid = entry.gid;
    else if (gidArg !== undefined) gid = gidArg;
    else throw new FileOpError("UNKNOWN_USER", `unable to find group ${groupArg}: no matching entries in group file`);
  } else if (matchedName !== "") {
    sgids = group.filter((g) => g.members.includes(matchedName)).map((g) => g.gid);
  }
  return { uid, gid, sgids };
}

/** BuildKit's parseUID for --chown: "root" is 0 without a lookup; otherwise a 32-bit decimal or a name. */
function chownId(s: string): number | undefined {
  if (s === "root") return 0;
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const n = Number(s);
  if (n < -(2 ** 31) || n > MAX_ID) return undefined;
  return n >>> 0;
}

/**
 * Resolves a --chown value ("user", "uid", "user:group", "uid:gid" …) to numeric ids. Names
 * are looked up in the target image (`view`); pass undefined when there is none to consult
 * (COPY --link), which makes names other than "root" an error. A numeric user alone means
 * gid = uid; a user name alone means that user's primary group; an empty group ("user:")
 * means the same as none, like chown(1). Unknown names are an error unless `lenient`, which
 * reproduces BuildKit exactly: an unknown user becomes 0:0, an unknown group keeps the gid
 * (WORKDIR uses this for the directories it creates as USER).
 */
export async function resolveChown(view: LayeredView | undefined, spec: string, opts: { lenient?: boolean } = {}): Promise<Owner> {
  const colon = spec.indexOf(":");
  const userPart = colon < 0 ? spec : spec.slice(0, colon);
  const groupPart = colon < 0 ? undefined : spec.slice(colon + 1);
  if (userPart === "") throw new FileOpError("BAD_FLAG", `invalid --chown value "${spec}": the user is missing`);

  const needsLookup = chownId(userPart) === undefined || (groupPart !== undefined && groupPart !== "" && chownId(groupPart) === undefined);
  if (needsLookup && view === undefined) {
    throw new FileOpError(
      "BAD_FLAG",
      `--chown=${spec} uses a user or group name, which cannot be resolved with --link (the copy does not see the image's /etc/passwd); use numeric ids`,
    );
  }

  let uid: number;
  let gid: number;
  const uidNum = chownId(userPart);
  if (uidNum !== undefined) {
    uid = uidNum;
    gid = uidNum;
  } else {
    const passwd = (await readPasswd(view!)) ?? [];
    const entry = passwd.find((u) => u.name === userPart) ?? (opts.lenient ? { uid: 0, gid: 0 } : undefined);
    if (!entry) throw new FileOpError("UNKNOWN_USER", `unable to find user ${userPart} for --chown=${spec}: no matching entries in the image's /etc/passwd`);
    uid = entry.uid;
    gid = entry.gid;
  }
  if (groupPart !== undefined && groupPart !== "") {
    const gidNum = chownId(groupPart);
    if (gidNum !== undefined) gid = gidNum;
    else {
      const groups = (await readGroup(view!)) ?? [];
      const entry = groups.find((g) => g.name === groupPart) ?? (opts.lenient ? { gid } : undefined);
      if (!entry) throw new FileOpError("UNKNOWN_USER", `unable to find group ${groupPart} for --chown=${spec}: no matching entries in the image's /etc/group`);
      gid = entry.gid;
    }
  }
  return { uid, gid };
}
