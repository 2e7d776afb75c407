// Reads an OCI archive (one image, or an index of several platforms) into comparable
// descriptions per platform — config fields a Dockerfile controls, history, flattened file
// tree — with test/support/image-tree.mjs's layer reader, and lists the differences of two.
import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import tarStream from "tar-stream";
import { flattenLayers } from "../support/image-tree.mjs";

export type TreeRow = [path: string, type: string, mode: string, uid: number, gid: number, size: number, sha256: string, link: string, dev: string];

export interface Description {
  config: Record<string, unknown>;
  history: { created_by: string; empty_layer: boolean }[];
  tree: TreeRow[];
}

const CONFIG_FIELDS = ["User", "ExposedPorts", "Env", "Entrypoint", "Cmd", "Volumes", "WorkingDir", "Labels", "StopSignal", "Healthcheck", "OnBuild", "Shell"];

async function members(file: string): Promise<Map<string, Buffer>> {
  const m = new Map<string, Buffer>();
  const extract = tarStream.extract();
  await new Promise<void>((resolve, reject) => {
    extract.on("entry", (h, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        m.set(h.name.replace(/^\.\//, ""), Buffer.concat(chunks));
        next();
      });
      stream.on("error", reject);
    });
    extract.on("finish", resolve);
    extract.on("error", reject);
    extract.end(readFileSync(file));
  });
  return m;
}

interface Desc { digest: string; mediaType?: string; platform?: { os: string; architecture: string; variant?: string } }

/** The manifests of an OCI archive by platform ("os/arch[/variant]"), skipping attestation manifests. */
async function manifests(file: string): Promise<{ blob: (d: string) => Buffer; byPlatform: Map<string, { config: Desc; layers: Desc[] }> }> {
  const m = await members(file);
  const blob = (d: string) => {
    const b = m.get(`blobs/${d.replace(":", "/")}`);
    if (!b) throw new Error(`${file}: no blob ${d}`);
    return b;
  };
  const byPlatform = new Map<string, { config: Desc; layers: Desc[] }>();
  const visit = (d: Desc) => {
    const j = JSON.parse(blob(d.digest).toString()) as { manifests?: Desc[]; config?: Desc; layers?: Desc[] };
    if (j.manifests) {
      for (const c of j.manifests) if (c.platform?.os !== "unknown") visit(c);
      return;
    }
    const cfg = JSON.parse(blob(j.config!.digest).toString()) as { os: string; architecture: string; variant?: string };
    byPlatform.set([cfg.os, cfg.architecture, ...(cfg.variant ? [cfg.variant] : [])].join("/"), { config: j.config!, layers: j.layers ?? [] });
  };
  for (const d of (JSON.parse(m.get("index.json")!.toString()) as { manifests: Desc[] }).manifests) visit(d);
  return { blob, byPlatform };
}

/** Each platform's description (arm64's variant v8 is folded into "linux/arm64"). */
export async function describeArchive(file: string): Promise<Map<string, Description>> {
  const { blob, byPlatform } = await manifests(file);
  const out = new Map<string, Description>();
  for (const [p, man] of byPlatform) {
    const img = JSON.parse(blob(man.config.digest).toString()) as { config?: Record<string, unknown>; history?: { created_by?: string; empty_layer?: boolean }[] };
    const tree = (await flattenLayers(man.layers.map((l) => blob(l.digest)))) as Map<string, { type: string; mode: string; uid: number; gid: number; size: number; sha256: string; link: string; dev: string }>;
    const config: Record<string, unknown> = {};
    for (const f of CONFIG_FIELDS) if (img.config?.[f] !== undefined && img.config[f] !== null) config[f] = img.config[f];
    out.set(p.replace(/^linux\/arm64\/v8$/, "linux/arm64"), {
      config,
      history: (img.history ?? []).map((h) => ({ created_by: h.created_by ?? "", empty_layer: !!h.empty_layer })),
      tree: [...tree].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([path, e]) => [path, e.type, e.mode, e.uid, e.gid, e.size, e.sha256, e.link, e.dev]),
    });
  }
  return out;
}

/** Human-readable differences between two archives' descriptions (empty when they agree). */
export function diffDescriptions(local: Map<string, Description>, remote: Map<string, Description>): string[] {
  const diffs: string[] = [];
  const platforms = [...new Set([...local.keys(), ...remote.keys()])].sort();
  for (const p of platforms) {
    const l = local.get(p);
    const r = remote.get(p);
    if (!l || !r) {
      diffs.push(`${p}: only in the ${l ? "local" : "remote"} build`);
      continue;
    }
    if (JSON.stringify(l.config) !== JSON.stringify(r.config)) diffs.push(`${p} config: local ${JSON.stringify(l.config)} remote ${JSON.stringify(r.config)}`);
    if (JSON.stringify(l.history) !== JSON.stringify(r.history)) diffs.push(`${p} history: local ${JSON.stringify(l.history)} remote ${JSON.stringify(r.history)}`);
    const lt = new Map(l.tree.map((e) => [e[0], JSON.stringify(e)]));
    const rt = new Map(r.tree.map((e) => [e[0], JSON.stringify(e)]));
    for (const k of [...new Set([...lt.keys(), ...rt.keys()])].sort()) {
      if (lt.get(k) !== rt.get(k)) diffs.push(`${p} ${k}: local ${lt.get(k) ?? "(absent)"} remote ${rt.get(k) ?? "(absent)"}`);
    }
  }
  return diffs;
}

/** Every layer of every image in the archive, uncompressed (to search for bytes that must not be there). */
export async function layerBytes(file: string): Promise<Buffer[]> {
  const { blob, byPlatform } = await manifests(file);
  return [...byPlatform.values()].flatMap((m) => m.layers.map((l) => {
    const b = blob(l.digest);
    return b[0] === 0x1f && b[1] === 0x8b ? gunzipSync(b) : b;
  }));
}

/** A directory tree as rows (path, type, mode with setuid/setgid/sticky, owner, size, content digest, link target), for `-o type=local` results. */
export function describeDir(root: string): string[] {
  const rows: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(path.join(root, rel)).sort()) {
      const p = rel ? `${rel}/${name}` : name;
      const abs = path.join(root, p);
      const st = lstatSync(abs);
      const type = st.isDirectory() ? "dir" : st.isSymbolicLink() ? "symlink" : st.isFile() ? "file" : "other";
      const content = type === "file" ? createHash("sha256").update(readFileSync(abs)).digest("hex") : type === "symlink" ? readlinkSync(abs) : "";
      rows.push([p, type, (st.mode & 0o7777).toString(8).padStart(4, "0"), `${st.uid}:${st.gid}`, type === "file" ? st.size : 0, content].join(" "));
      if (type === "dir") walk(p);
    }
  };
  walk("");
  return rows;
}
