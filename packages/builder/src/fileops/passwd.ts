// /etc/passwd and /etc/group of an image, read through its rootfs view (symlinks resolved
// inside the rootfs; a missing file is an empty database, as runc and BuildKit treat it).
import type { LayeredView } from "../fs/layered-view.js";

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/** BuildKit refuses user databases above 10 MiB. */
const MAX_USER_FILE = 10 << 20;

async function readUserFile(view: LayeredView, path: string): Promise<string | undefined> {
  let st;
  try {
    st = await view.statFile(path);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw new Error(`${path} in the image is not a regular file`);
  }
  if (st.size > MAX_USER_FILE) throw new Error(`${path} in the image exceeds ${MAX_USER_FILE} bytes`);
  return (await view.readFile(path)).toString("utf8");
}

function parseId(s: string | undefined): number {
  const n = Number(s);
  return s !== undefined && /^\d+$/.test(s) ? n : 0;
}

function lines(text: string): string[][] {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map((l) => l.split(":"));
}

export function parsePasswd(text: string): PasswdEntry[] {
  return lines(text).map((f) => ({ name: f[0] ?? "", uid: parseId(f[2]), gid: parseId(f[3]), home: f[5] ?? "" }));
}

export function parseGroup(text: string): GroupEntry[] {
  return lines(text).map((f) => ({
    name: f[0] ?? "",
    gid: parseId(f[2]),
    members: (f[3] ?? "").split(",").map((m) => m.trim()).filter((m) => m !== ""),
  }));
}

/** The image's passwd entries; undefined when it has no /etc/passwd. */
export async function readPasswd(view: LayeredView): Promise<PasswdEntry[] | undefined> {
  const text = await readUserFile(view, "/etc/passwd");
  return text === undefined ? undefined : parsePasswd(text);
}

/** The image's group entries; undefined when it has no /etc/group. */
export async function readGroup(view: LayeredView): Promise<GroupEntry[] | undefined> {
  const text = await readUserFile(view, "/etc/group");
  return text === undefined ? undefined : parseGroup(text);
}
