// --cache-from / --cache-to with --builder: the daemon's own cache import and export
// (BuildKit's remotecache), not tbuild's travelling cache — the two are keyed differently
// (DESIGN: "Keys differ from BuildKit's"), so a tbuild cache gives the daemon no hits and the
// other way round. The entries are buildx's: imports go with each LLB bridge Solve
// (gateway SolveRequest.CacheImports, which llbBridge.loadResult reads; the Control.Solve's
// own imports are not used when the client is the frontend), exports with the Control.Solve
// (CacheOptions.Exports). `type=local` is an OCI layout on this machine that the daemon reads
// and writes through the session's content store (llb session/content-store.ts), store id
// "local:<dir>" (cache/remotecache/local/local.go); as BuildKit's client does (client/solve.go,
// parseCacheOptions) an import is named by the digest index.json tags (default "latest"; a
// missing one is a warning and no import), and after an export the cache index the daemon
// reports (ExporterResponse "cache.manifest") is tagged in index.json. Docker 20.10's embedded
// BuildKit registers the registry and local importers but only the inline exporter (moby
// builder-next/controller.go: ResolveCacheExporterFuncs): a local import works through its
// session (checked: a cache a buildkitd v0.32 exported gave its COPY step a hit), a local
// export is refused. BuildKit 0.8 reads a cache only in its index form (what tbuild and
// BuildKit before v0.12 write, or `image-manifest=false`); the image-manifest form it takes
// for inline cache and ignores (cache/remotecache/import.go: Resolve), so that is warned of.
import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import { REF_NAME, type Descriptor, type Digest } from "@tbuild/oci";
import type { BuilderAddress, ContentStores } from "@tbuild/llb";
import { tagLayoutEntry } from "../remote-cache/export.js";
import type { BuildOptions, CacheExportSpec } from "../api-types.js";
import { BuildOptionError } from "../solve/errors.js";

export interface CacheEntry {
  Type: string;
  Attrs: Record<string, string>;
}

export interface DaemonCacheOptions {
  imports: CacheEntry[];
  exports: CacheEntry[];
  /** The local caches' layouts the session serves (by store id "local:<dir>"). */
  stores: ContentStores;
  /** After the solve: tags the cache index each local export wrote (its ExporterResponse). */
  finish(exporterResponse: Record<string, string>): Promise<void>;
}

const LOCAL_WHY = "Docker 20.10's embedded BuildKit exports no local cache (its controller registers only the inline exporter)";
const MANIFEST_FORM = "application/vnd.oci.image.manifest.v1+json";
/** The store id BuildKit's local cache uses for a directory (cache/remotecache/local: contentStoreIDPrefix). */
const localStore = (dir: string) => `local:${dir}`;

export async function daemonCacheOptions(address: BuilderAddress, opts: Pick<BuildOptions, "cacheFrom" | "cacheTo" | "outputs">, warn: (message: string) => void): Promise<DaemonCacheOptions> {
  const refuse = (option: "cacheFrom" | "cacheTo", message: string): never => {
    throw new BuildOptionError(option, message);
  };
  const stores: ContentStores = new Map();
  const tags = new Map<string, string>(); // export dir → tag
  const imports: CacheEntry[] = [];
  for (const c of opts.cacheFrom ?? []) {
    if (c.type !== "local") {
      imports.push({ Type: "registry", Attrs: { ref: c.ref, ...(c.insecure ? { "registry.insecure": "true" } : {}) } });
      continue;
    }
    const dir = path.resolve(c.src);
    const tag = c.tag ?? "latest";
    const index = await readFile(path.join(dir, "index.json"), "utf8").then((t) => JSON.parse(t) as { manifests?: Descriptor[] }, (e: Error) => e);
    const entry = index instanceof Error ? undefined : index.manifests?.find((m) => m.annotations?.[REF_NAME] === tag);
    if (!entry) {
      warn(`local cache import at ${dir} skipped: ${index instanceof Error ? index.message : `no digest found for tag ${tag}`}`);
      continue;
    }
    if (address.kind === "docker" && entry.mediaType === MANIFEST_FORM) {
      warn(`local cache import at ${dir}: the cache is in BuildKit's image-manifest form, which Docker 20.10's embedded BuildKit (v0.8) does not read (it reads the index form: BuildKit before v0.12, or image-manifest=false); a Docker with BuildKit v0.12 or newer does`);
    }
    stores.set(localStore(dir), { dir });
    imports.push({ Type: "local", Attrs: { src: dir, digest: entry.digest } });
  }
  const exports: CacheEntry[] = [];
  for (const c of opts.cacheTo ?? []) {
    if (c.type === "local") {
      if (address.kind === "docker") refuse("cacheTo", `--cache-to type=local is not supported with --builder ${address.text}: ${LOCAL_WHY}; use type=inline with -t`);
      const dir = path.resolve(c.dest);
      await mkdir(dir, { recursive: true });
      stores.set(localStore(dir), { dir, writable: true });
      tags.set(dir, c.tag ?? "latest");
      exports.push({ Type: "local", Attrs: { dest: dir, ...commonAttrs(c) } });
      continue;
    }
    exports.push(exportEntry(address, c, opts.outputs ?? [], refuse));
  }
  return {
    imports,
    exports,
    stores,
    async finish(res) {
      // BuildKit's client tags the one cache.manifest in every local export's layout (client/solve.go).
      const manifest = res["cache.manifest"];
      if (!manifest || tags.size === 0) return;
      const desc = JSON.parse(manifest) as Descriptor;
      for (const [dir, tag] of tags) await tagLayoutEntry(dir, { mediaType: desc.mediaType, digest: desc.digest as Digest, size: desc.size }, tag);
    },
  };
}

/** The attributes every exporter of BuildKit's cache takes (buildx's keys). */
function commonAttrs(c: Extract<CacheExportSpec, { type: "registry" | "local" }>): Record<string, string> {
  return {
    mode: c.mode ?? "min",
    ...(c.compression ? { compression: c.compression } : {}),
    ...(c.ociMediatypes !== undefined ? { "oci-mediatypes": String(c.ociMediatypes) } : {}),
    ...(c.ignoreError ? { "ignore-error": "true" } : {}),
  };
}

function exportEntry(address: BuilderAddress, c: Exclude<CacheExportSpec, { type: "local" }>, outputs: NonNullable<BuildOptions["outputs"]>, refuse: (o: "cacheTo", m: string) => never): CacheEntry {
  if (c.type === "inline") {
    // The inline exporter writes into the config of the image the image/moby exporter makes.
    if (outputs.some((o) => o.type !== "store" && o.type !== "registry")) refuse("cacheTo", `--cache-to type=inline with --builder: inline cache metadata goes into the image's config, so it needs an image output (-t or --push), not -o type=${outputs.find((o) => o.type !== "store" && o.type !== "registry")!.type}`);
    return { Type: "inline", Attrs: {} };
  }
  if (address.kind === "docker") {
    return refuse("cacheTo", `--cache-to type=registry is not supported with --builder ${address.text}: Docker 20.10's embedded BuildKit exports only inline cache (its controller registers no registry exporter); use --cache-to type=inline with -t (then docker push), or a buildkitd (unix:// or tcp://)`);
  }
  return {
    Type: "registry",
    Attrs: { ref: c.ref, ...commonAttrs(c), ...(c.insecure ? { "registry.insecure": "true" } : {}) },
  };
}
