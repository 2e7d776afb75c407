// --cache-from / --cache-to with --builder: the daemon's own cache import and export
// (BuildKit's remotecache), not tbuild's travelling cache — the two are keyed differently
// (DESIGN: "Keys differ from BuildKit's"), so a tbuild cache gives the daemon no hits and the
// other way round. The entries are buildx's: imports go with each LLB bridge Solve
// (gateway SolveRequest.CacheImports, which llbBridge.loadResult reads; the Control.Solve's
// own imports are not used when the client is the frontend), exports with the Control.Solve
// (CacheOptions.Exports). `type=local` needs the session to serve a content store (BuildKit's
// session/content, containerd's content API over the session), which tbuild's session does not
// serve. Docker 20.10's embedded BuildKit registers the registry and local importers but only
// the inline exporter (moby builder-next/controller.go: ResolveCacheExporterFuncs).
import type { BuilderAddress } from "@tbuild/llb";
import type { BuildOptions, CacheExportSpec } from "../api-types.js";
import { BuildOptionError } from "../solve/errors.js";

export interface CacheEntry {
  Type: string;
  Attrs: Record<string, string>;
}

export interface DaemonCacheOptions {
  imports: CacheEntry[];
  exports: CacheEntry[];
}

const LOCAL_WHY = "BuildKit reads and writes a local cache through a content store the client serves over the session (session/content), which tbuild's session does not serve";

export function daemonCacheOptions(address: BuilderAddress, opts: Pick<BuildOptions, "cacheFrom" | "cacheTo" | "outputs">): DaemonCacheOptions {
  const refuse = (option: "cacheFrom" | "cacheTo", message: string): never => {
    throw new BuildOptionError(option, message);
  };
  const imports = (opts.cacheFrom ?? []).map((c): CacheEntry => {
    if (c.type === "local") return refuse("cacheFrom", `--cache-from type=local is not supported with --builder ${address.text}: ${LOCAL_WHY}; use type=registry`);
    return { Type: "registry", Attrs: { ref: c.ref, ...(c.insecure ? { "registry.insecure": "true" } : {}) } };
  });
  const exports = (opts.cacheTo ?? []).map((c) => exportEntry(address, c, opts.outputs ?? [], refuse));
  return { imports, exports };
}

function exportEntry(address: BuilderAddress, c: CacheExportSpec, outputs: NonNullable<BuildOptions["outputs"]>, refuse: (o: "cacheTo", m: string) => never): CacheEntry {
  if (c.type === "local") return refuse("cacheTo", `--cache-to type=local is not supported with --builder ${address.text}: ${LOCAL_WHY}; use ${address.kind === "docker" ? "type=inline with -t" : "type=registry or type=inline"}`);
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
    Attrs: {
      ref: c.ref,
      mode: c.mode ?? "min",
      ...(c.compression ? { compression: c.compression } : {}),
      ...(c.ociMediatypes !== undefined ? { "oci-mediatypes": String(c.ociMediatypes) } : {}),
      ...(c.ignoreError ? { "ignore-error": "true" } : {}),
      ...(c.insecure ? { "registry.insecure": "true" } : {}),
    },
  };
}
