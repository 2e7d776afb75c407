// Reading images out of the local store: resolving what the user typed (a name, a
// tag, a full or short image ID) to a stored image, and loading its manifest and
// config. A multi-platform index resolves to the host platform's manifest (or the one
// asked for), and keeps its list of platforms for inspect and save.

import type { Store, ImageRecord } from "@tbuild/cache";
import { bestForPlatform, formatPlatform, hostPlatform, parsePlatform, type Descriptor, type Digest, type ImageConfig, type Index, type Manifest } from "@tbuild/oci";
import { CommandError } from "../errors.js";
import { normalizeName } from "./image-ref.js";

/** One image as the listing commands show it. */
export interface StoredImage {
  /** Store names pointing at it (canonical form); empty for an image found by ID only. */
  names: string[];
  /** The digest the name points at (manifest or index). */
  digest: Digest;
  manifestDigest: Digest;
  manifest: Manifest;
  /** The manifest's exact bytes as stored (exports keep its digest). */
  manifestBytes: Buffer;
  configDigest: Digest;
  config: ImageConfig;
  /** Sum of the layer sizes in the manifest. */
  size: number;
  /** The stored name `resolveImage` found the image by, when it was a name. */
  matchedName?: string;
  /** When `digest` is an image index: it, its bytes, and which of its manifests the store holds. */
  index?: { index: Index; bytes: Buffer; manifests: { descriptor: Descriptor; present: boolean }[] };
}

/** Reads and parses a JSON blob from the store. */
export async function readJson<T>(store: Store, digest: Digest): Promise<T> {
  return JSON.parse((await store.readBlob(digest)).toString("utf8")) as T;
}

/**
 * Loads the manifest and config behind `digest`. In an index: the manifest for `platform`
 * ("os/arch[/variant]"; a CommandError if the index has none), else the host's, else the
 * first the store holds (a pulled index may hold only the platforms builds needed).
 */
export async function loadImage(store: Store, digest: Digest, names: string[] = [], platform?: string): Promise<StoredImage> {
  let manifestDigest = digest;
  let bytes = await store.readBlob(digest);
  let doc = JSON.parse(bytes.toString("utf8")) as Manifest | Index;
  let index: StoredImage["index"];
  if ("manifests" in doc) {
    const manifests = await Promise.all(doc.manifests.map(async (d) => ({ descriptor: d, present: await store.hasBlob(d.digest) })));
    index = { index: doc, bytes, manifests };
    const present = manifests.filter((m) => m.present).map((m) => m.descriptor);
    let pick: Descriptor | undefined;
    if (platform !== undefined) {
      const want = parsePlatform(platform);
      pick = bestForPlatform(present, want);
      if (!pick) {
        const offered = present.filter((d) => d.platform).map((d) => formatPlatform(d.platform!));
        throw new CommandError(`image index ${digest} has no image for ${formatPlatform(want)} in the store${offered.length ? ` (it holds ${offered.join(", ")})` : ""}`);
      }
    } else pick = bestForPlatform(present, hostPlatform()) ?? present[0];
    if (!pick) throw new CommandError(`image index ${digest} lists no manifest the store holds`);
    manifestDigest = pick.digest;
    bytes = await store.readBlob(manifestDigest);
    doc = JSON.parse(bytes.toString("utf8")) as Manifest;
  }
  const manifest = doc as Manifest;
  if (!manifest.config) throw new CommandError(`blob ${manifestDigest} is not an image manifest`);
  const config = await readJson<ImageConfig>(store, manifest.config.digest);
  const size = manifest.layers.reduce((n, l) => n + l.size, 0);
  return { names, digest, manifestDigest, manifest, manifestBytes: bytes, configDigest: manifest.config.digest, config, size, ...(index ? { index } : {}) };
}

/** Every named image, grouped by the digest the names point at, sorted by name. */
export async function listStoredImages(store: Store): Promise<{ record: ImageRecord; image: StoredImage }[]> {
  const records = await store.listImages();
  const byDigest = new Map<Digest, Promise<StoredImage>>();
  const out: { record: ImageRecord; image: StoredImage }[] = [];
  for (const record of records) {
    let p = byDigest.get(record.manifest);
    if (!p) {
      const names = records.filter((r) => r.manifest === record.manifest).map((r) => r.name);
      p = loadImage(store, record.manifest, names);
      byDigest.set(record.manifest, p);
    }
    try {
      out.push({ record, image: await p });
    } catch {
      // A name whose blobs are gone (a damaged store) is skipped; `tbuild rmi` removes it.
    }
  }
  return out;
}

/**
 * Finds the image `ref` designates: a stored name (normalised docker-style), or an
 * image ID (config digest, `sha256:` optional, at least 4 hex digits when shortened),
 * or a manifest digest. Throws a CommandError when nothing or several images match.
 */
export async function resolveImage(store: Store, ref: string, platform?: string): Promise<StoredImage> {
  const idLike = /^(sha256:)?[0-9a-f]{4,64}$/.test(ref);
  // Names first, as docker does: `tbuild inspect cafe` means the image named cafe if there is one.
  const name = tryNormalize(ref);
  const rec = (name !== undefined ? await store.getImage(name) : undefined) ?? (name !== ref ? await store.getImage(ref) : undefined);
  if (rec) {
    const names = (await store.listImages()).filter((r) => r.manifest === rec.manifest).map((r) => r.name);
    return { ...(await loadImage(store, rec.manifest, names, platform)), matchedName: rec.name };
  }
  if (idLike) {
    const hex = ref.replace(/^sha256:/, "");
    const matches = new Map<Digest, StoredImage>();
    for (const { image } of await listStoredImages(store)) {
      const ids = [image.configDigest, image.manifestDigest, image.digest].map((d) => d.slice("sha256:".length));
      if (ids.some((id) => id.startsWith(hex))) matches.set(image.configDigest, image);
    }
    if (matches.size === 1) return [...matches.values()][0]!;
    if (matches.size > 1) throw new CommandError(`image ID ${ref} is ambiguous: it matches ${matches.size} images; give more digits`);
    if (hex.length === 64 && (await store.hasBlob(`sha256:${hex}`))) {
      // A manifest kept only by the cache (an untagged build result).
      try {
        return await loadImage(store, `sha256:${hex}`);
      } catch {
        /* not a manifest */
      }
    }
  }
  throw new CommandError(`image ${ref} not found in the local store (see 'tbuild images')`);
}

function tryNormalize(ref: string): string | undefined {
  try {
    return normalizeName(ref);
  } catch {
    return undefined;
  }
}

/** The images an index lists; all must be in the store (to save or push it whole). */
export async function indexChildren(store: Store, img: StoredImage): Promise<StoredImage[]> {
  const missing = img.index!.manifests.filter((m) => !m.present);
  if (missing.length) {
    throw new CommandError(`${img.names[0] ?? img.digest}: the store holds only some platforms of this index (missing ${missing.map((m) => m.descriptor.digest).join(", ")})`);
  }
  return Promise.all(img.index!.manifests.map((m) => loadImage(store, m.descriptor.digest)));
}
