// `--verify-workloads`: generates the peers' workloads with make-workloads.sh (same base
// image reference) and compares them entry by entry with ours — path, type, mode, size,
// content digest, and for the generated contexts the timestamps — so "the same
// workloads" is checked, not assumed.

import { createHash } from "node:crypto";
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import path from "node:path";
import { PEERS_DIR } from "./paths.js";
import { runOk } from "./proc.js";
import { say, type BenchEnv } from "./setup.js";

interface EntryInfo {
  kind: string;
  mode: number;
  size: number;
  digest: string;
  mtime: number;
}

function scan(root: string): Map<string, EntryInfo> {
  const out = new Map<string, EntryInfo>();
  const walk = (rel: string): void => {
    const abs = path.join(root, rel);
    const st = lstatSync(abs);
    const kind = st.isDirectory() ? "dir" : st.isSymbolicLink() ? "symlink" : st.isFile() ? "file" : "other";
    const digest =
      kind === "file" ? createHash("sha256").update(readFileSync(abs)).digest("hex") : kind === "symlink" ? readlinkSync(abs) : "";
    if (rel !== "") out.set(rel, { kind, mode: st.mode & 0o7777, size: kind === "file" ? st.size : 0, digest, mtime: Math.floor(st.mtimeMs / 1000) });
    if (kind === "dir") for (const name of readdirSync(abs).sort()) walk(path.join(rel, name));
  };
  walk("");
  return out;
}

/** Returns 0 when every workload matches, 1 otherwise. */
export async function verifyWorkloads(env: BenchEnv): Promise<number> {
  const script = path.join(PEERS_DIR, "make-workloads.sh");
  if (!existsSync(script)) {
    say(`cannot verify: ${script} not found`);
    return 1;
  }
  const theirs = path.join(env.dirs.root, "verify-peers");
  rmSync(theirs, { recursive: true, force: true });
  await runOk(["bash", script, theirs], { env: { ...process.env, BASE_IMAGE: env.baseRef }, log: env.setupLog });
  let bad = 0;
  try {
    for (const wl of env.workloads) {
      const a = scan(wl.dir);
      const b = scan(path.join(theirs, wl.name));
      const problems: string[] = [];
      for (const [rel, x] of b) {
        const y = a.get(rel);
        if (!y) problems.push(`missing ${rel}`);
        else {
          const timed = rel.startsWith("ctx");
          if (x.kind !== y.kind || x.mode !== y.mode || x.size !== y.size || x.digest !== y.digest || (timed && x.mtime !== y.mtime)) {
            problems.push(`differs ${rel}: peers ${JSON.stringify(x)} ours ${JSON.stringify(y)}`);
          }
        }
      }
      for (const rel of a.keys()) if (!b.has(rel)) problems.push(`extra ${rel}`);
      if (problems.length) {
        bad++;
        say(`${wl.name}: ${problems.length} difference(s):\n  ${problems.slice(0, 10).join("\n  ")}`);
      } else {
        say(`${wl.name}: identical to make-workloads.sh (${b.size} entries)`);
      }
    }
  } finally {
    rmSync(theirs, { recursive: true, force: true });
  }
  return bad ? 1 : 0;
}
