// Flattens an image archive (docker-archive or oci-archive) into a comparable
// description: the config fields that a Dockerfile controls, the history, and the
// file tree after applying every layer with OCI whiteouts. Used by the differential
// suite both to record BuildKit's goldens (as a script) and to check tbuild's images
// (imported by the tests), so the two sides are always read by the same code.
//
// Script use: node test/support/image-tree.mjs IMAGE.tar [--base BASE.tar] > golden.json
import { createReadStream } from "node:fs";
import { readFile as readFileAsync } from "node:fs/promises";
import { createHash } from "node:crypto";
import { createGunzip } from "node:zlib";
import { Readable } from "node:stream";
import tarStream from "tar-stream";

/** Reads every entry of a tar file into memory (archives here are small test images). */
async function readTarMembers(path) {
  const members = new Map();
  const extract = tarStream.extract();
  const done = new Promise((resolve, reject) => {
    extract.on("entry", (header, stream, next) => {
      const chunks = [];
      stream.on("data", (c) => chunks.push(c));
      stream.on("end", () => { members.set(header.name.replace(/^\.\//, ""), Buffer.concat(chunks)); next(); });
      stream.on("error", reject);
    });
    extract.on("finish", resolve);
    extract.on("error", reject);
  });
  createReadStream(path).pipe(extract);
  await done;
  return members;
}

function maybeGunzip(buf) {
  return buf.length > 2 && buf[0] === 0x1f && buf[1] === 0x8b ? Readable.from([buf]).pipe(createGunzip()) : Readable.from([buf]);
}

/** Returns { config, layers: Buffer[] } for the first image in a docker- or oci-archive. */
export async function loadArchive(path) {
  const m = await readTarMembers(path);
  if (m.has("manifest.json")) {
    const [entry] = JSON.parse(m.get("manifest.json").toString());
    return { config: JSON.parse(m.get(entry.Config).toString()), layers: entry.Layers.map((l) => m.get(l)) };
  }
  if (!m.has("index.json")) {
    // A plain root filesystem tarball: one layer, no config.
    return { config: { config: {}, history: [] }, layers: [await readFileAsync(path)] };
  }
  const blob = (d) => m.get(`blobs/${d.replace(":", "/")}`);
  const index = JSON.parse(m.get("index.json").toString());
  let desc = index.manifests[0];
  let manifest = JSON.parse(blob(desc.digest).toString());
  if (manifest.manifests) manifest = JSON.parse(blob(manifest.manifests[0].digest).toString());
  return { config: JSON.parse(blob(manifest.config.digest).toString()), layers: manifest.layers.map((l) => blob(l.digest)) };
}

const typeNames = { file: "file", "contiguous-file": "file", directory: "dir", symlink: "symlink", link: "hardlink",
  "character-device": "char", "block-device": "block", fifo: "fifo" };

function clean(name) {
  return name.replace(/^\.?\/+/, "").replace(/\/+$/, "");
}

/** Applies layers (tar buffers, optionally gzipped) in order; returns Map path -> entry. */
export async function flattenLayers(layers) {
  const tree = new Map();
  const removeSubtree = (p) => {
    tree.delete(p);
    for (const k of [...tree.keys()]) if (k.startsWith(p + "/")) tree.delete(k);
  };
  for (const layer of layers) {
    const entries = [];
    const extract = tarStream.extract();
    await new Promise((resolve, reject) => {
      extract.on("entry", (h, stream, next) => {
        const hash = createHash("sha256");
        stream.on("data", (c) => hash.update(c));
        stream.on("end", () => { entries.push({ h, sha256: hash.digest("hex") }); next(); });
        stream.on("error", reject);
      });
      extract.on("finish", resolve);
      extract.on("error", reject);
      maybeGunzip(layer).pipe(extract);
    });
    // Whiteouts act on the layers below, so they are applied before this layer's own entries.
    for (const { h } of entries) {
      const p = clean(h.name);
      const base = p.split("/").pop();
      const dir = p.includes("/") ? p.slice(0, p.lastIndexOf("/")) : "";
      if (base === ".wh..wh..opq") {
        for (const k of [...tree.keys()]) if (dir === "" ? true : k.startsWith(dir + "/")) tree.delete(k);
      } else if (base.startsWith(".wh.")) {
        removeSubtree(dir ? `${dir}/${base.slice(4)}` : base.slice(4));
      }
    }
    for (const { h, sha256 } of entries) {
      const p = clean(h.name);
      if (p === "" || p.split("/").pop().startsWith(".wh.")) continue;
      const type = typeNames[h.type] ?? h.type;
      const prev = tree.get(p);
      if (prev && prev.type === "dir" && type !== "dir") removeSubtree(p);
      if (type === "hardlink") {
        const target = tree.get(clean(h.linkname));
        tree.set(p, { ...(target ?? { type: "file", size: 0, sha256: "" }), mode: target?.mode ?? h.mode, uid: target?.uid ?? h.uid, gid: target?.gid ?? h.gid });
        continue;
      }
      tree.set(p, {
        type,
        mode: (h.mode & 0o7777).toString(8).padStart(4, "0"),
        uid: h.uid,
        gid: h.gid,
        size: type === "file" ? h.size : 0,
        sha256: type === "file" ? sha256 : "",
        link: type === "symlink" ? h.linkname : "",
        dev: type === "char" || type === "block" ? `${h.devmajor}:${h.devminor}` : "",
      });
    }
  }
  return tree;
}

const CONFIG_FIELDS = ["User", "ExposedPorts", "Env", "Entrypoint", "Cmd", "Volumes", "WorkingDir", "Labels",
  "StopSignal", "Healthcheck", "OnBuild", "Shell"];

/** The comparable description of an image, optionally as a difference from a base image. */
export async function describeImage(archive, baseArchive) {
  const img = await loadArchive(archive);
  const tree = await flattenLayers(img.layers);
  const baseTree = baseArchive ? await flattenLayers((await loadArchive(baseArchive)).layers) : new Map();
  const changed = [];
  for (const [p, e] of [...tree].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const b = baseTree.get(p);
    if (!b || JSON.stringify(b) !== JSON.stringify(e)) changed.push([p, e.type, e.mode, e.uid, e.gid, e.size, e.sha256, e.link, e.dev]);
  }
  const removed = [...baseTree.keys()].filter((p) => !tree.has(p)).sort();
  const cfg = img.config.config ?? {};
  const config = {};
  for (const f of CONFIG_FIELDS) if (cfg[f] !== undefined && cfg[f] !== null) config[f] = cfg[f];
  return {
    architecture: img.config.architecture,
    os: img.config.os,
    author: img.config.author ?? "",
    config,
    history: (img.config.history ?? []).map((h) => ({ created_by: h.created_by ?? "", empty_layer: !!h.empty_layer })),
    tree: changed,
    removed,
  };
}

/** Pretty JSON with one line per tree row, so golden diffs read well. */
export function formatDescription(d) {
  const { tree, removed, ...head } = d;
  const body = JSON.stringify(head, null, 1).replace(/\n}$/, "");
  const rows = tree.map((r) => "  " + JSON.stringify(r)).join(",\n");
  return `${body},\n "tree": [\n${rows}\n ],\n "removed": ${JSON.stringify(removed)}\n}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const bi = args.indexOf("--base");
  const base = bi >= 0 ? args.splice(bi, 2)[1] : undefined;
  process.stdout.write(formatDescription(await describeImage(args[0], base)));
}
