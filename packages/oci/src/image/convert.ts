// Conversion between OCI and Docker v2 schema 2 documents. Only media types change: the
// config and layer blobs are byte-identical in both worlds, so their digests stay valid; the
// converted manifest is a new document with a new digest.
import { OciError } from "../errors.js";
import { MediaType, type Descriptor, type Index, type Manifest } from "../types.js";

const LAYER_TO_DOCKER: Record<string, string> = {
  [MediaType.ociLayer]: MediaType.dockerLayer,
  [MediaType.ociLayerGzip]: MediaType.dockerLayerGzip,
  "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip": "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
};
const LAYER_TO_OCI: Record<string, string> = Object.fromEntries(Object.entries(LAYER_TO_DOCKER).map(([k, v]) => [v, k]));

function mapLayer(d: Descriptor, table: Record<string, string>, target: string): Descriptor {
  const mediaType = table[d.mediaType] ?? d.mediaType;
  if (target === "docker" && mediaType === MediaType.ociLayerZstd) {
    // Docker's schema has no zstd type; Docker Engine ≥ 23 and registries accept the OCI one inside.
    return { ...d };
  }
  return { ...d, mediaType };
}

/** A Docker v2 schema 2 manifest with the same config and layers as `m`. */
export function toDockerManifest(m: Manifest): Manifest {
  if (m.subject || m.artifactType) {
    throw new OciError("UNSUPPORTED", "a manifest with a subject or artifactType (an OCI artifact or referrer) has no Docker schema 2 form.");
  }
  const out: Manifest = {
    schemaVersion: 2,
    mediaType: MediaType.dockerManifest,
    config: { ...m.config, mediaType: m.config.mediaType === MediaType.ociConfig ? MediaType.dockerConfig : m.config.mediaType },
    layers: m.layers.map((l) => mapLayer(l, LAYER_TO_DOCKER, "docker")),
  };
  if (m.annotations) out.annotations = m.annotations;
  return out;
}

/** An OCI image manifest with the same config and layers as `m`. */
export function toOciManifest(m: Manifest): Manifest {
  const out: Manifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { ...m.config, mediaType: m.config.mediaType === MediaType.dockerConfig ? MediaType.ociConfig : m.config.mediaType },
    layers: m.layers.map((l) => mapLayer(l, LAYER_TO_OCI, "oci")),
  };
  if (m.subject) out.subject = m.subject;
  if (m.artifactType) out.artifactType = m.artifactType;
  if (m.annotations) out.annotations = m.annotations;
  return out;
}

function mapEntries(ix: Index, manifestType: string): Descriptor[] {
  return ix.manifests.map((d) => {
    if (d.mediaType === MediaType.ociManifest || d.mediaType === MediaType.dockerManifest) return { ...d, mediaType: manifestType };
    return { ...d };
  });
}

/**
 * A Docker manifest list with the entries of `ix`. The entries' descriptors keep their
 * digests, so the caller must also convert (and store) each child manifest it retypes;
 * `childTypes` controls whether entries are retyped ("docker") or left as they are ("keep").
 */
export function toDockerManifestList(ix: Index, childTypes: "docker" | "keep" = "docker"): Index {
  const manifests = childTypes === "docker" ? mapEntries(ix, MediaType.dockerManifest) : ix.manifests.map((d) => ({ ...d }));
  return { schemaVersion: 2, mediaType: MediaType.dockerManifestList, manifests };
}

/** An OCI image index with the entries of `ix` (see toDockerManifestList for `childTypes`). */
export function toOciIndex(ix: Index, childTypes: "oci" | "keep" = "oci"): Index {
  const manifests = childTypes === "oci" ? mapEntries(ix, MediaType.ociManifest) : ix.manifests.map((d) => ({ ...d }));
  const out: Index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests };
  if (ix.annotations) out.annotations = ix.annotations;
  return out;
}
