// BuildOptions.outputs → the exporter of a Control.Solve. Docker's embedded BuildKit has the
// "moby" exporter (the image goes into Docker's image store, named by the tags); buildkitd
// has "image" (with push=true for a registry), "oci", "docker", "local" and "tar". Local
// and tar outputs (and oci/docker archives) come back through the session's FileSend.
// Several target platforms: the image and oci exporters make an index of the result's refs,
// local and tar a directory per platform (linux_arm64/, BuildKit's naming); Docker 20.10's
// moby exporter loads one image and refuses several refs ("exporting multiple references to
// image store is currently unsupported", moby builder-next/exporter), and a docker archive
// cannot hold an index (refused as the local build refuses it).
import type { BuilderAddress } from "@tbuild/llb";
import type { OutputSpec } from "../api-types.js";
import { BuildOptionError } from "../solve/errors.js";

export interface ExporterChoice {
  exporter: string;
  attrs: Record<string, string>;
  /** What the session receives: files of a directory, or one tar stream. */
  receive?: { kind: "dir"; dest: string } | { kind: "file"; dest: string };
  output: OutputSpec;
}

export function chooseExporter(address: BuilderAddress, outputs: OutputSpec[], tags: string[], platformCount = 1): ExporterChoice {
  const choice = chooseOne(address, outputs, tags);
  if (platformCount > 1) {
    if (choice.exporter === "moby") {
      throw new BuildOptionError("platform", `several --platform values with --builder ${address.text} and the image store as output: Docker 20.10's embedded BuildKit loads one image into Docker's store, not an index (its moby exporter refuses several platforms' results); use -o type=local or -o type=tar (a directory per platform), one --platform per build, or a buildkitd (unix:// or tcp://) with --push or -o type=oci`);
    }
    if (choice.exporter === "docker") throw new BuildOptionError("outputs", "-o type=docker cannot hold several platforms (a docker archive has no image index); use -o type=oci, or one --platform");
  }
  return choice;
}

function chooseOne(address: BuilderAddress, outputs: OutputSpec[], tags: string[]): ExporterChoice {
  // `-t a -t b --push` is the store plus one registry output per tag: one image exporter
  // that names and pushes them all (buildx: type=image,name=a,b,push=true).
  const pushes = outputs.filter((o): o is Extract<OutputSpec, { type: "registry" }> => o.type === "registry");
  if (pushes.length > 0 && outputs.every((o) => o.type === "registry" || o.type === "store")) {
    if (address.kind === "docker") throw new BuildOptionError("outputs", `--push with --builder ${address.text}: Docker's embedded BuildKit has no image exporter that pushes; build with -t, then docker push, or use a buildkitd (unix:// or tcp://)`);
    const names = [...new Set([...tags, ...pushes.map((p) => p.name)])];
    const insecure = pushes.some((p) => p.insecure);
    return { exporter: "image", attrs: { name: names.join(","), push: "true", ...(insecure ? { "registry.insecure": "true" } : {}) }, output: pushes[0]! };
  }
  if (outputs.length > 1) {
    throw new BuildOptionError("outputs", `--builder ${address.text}: one output per build (BuildKit 0.8's Solve takes one exporter); run the build once per output, the daemon's cache makes the others cheap`);
  }
  const out: OutputSpec = outputs[0] ?? { type: "store" };
  const docker = address.kind === "docker";
  switch (out.type) {
    case "store":
      if (!docker && tags.length === 0) return { exporter: "image", attrs: {}, output: out };
      return docker
        ? { exporter: "moby", attrs: tags.length ? { name: tags.join(",") } : {}, output: out }
        : { exporter: "image", attrs: { name: tags.join(",") }, output: out };
    case "registry":
      if (docker) throw new BuildOptionError("outputs", `--push with --builder ${address.text}: Docker's embedded BuildKit has no image exporter that pushes; build with -t, then docker push, or use a buildkitd (unix:// or tcp://)`);
      return { exporter: "image", attrs: { name: out.name, push: "true", ...(out.insecure ? { "registry.insecure": "true" } : {}) }, output: out };
    case "local":
      return { exporter: "local", attrs: {}, receive: { kind: "dir", dest: out.dest }, output: out };
    case "tar":
      return { exporter: "tar", attrs: {}, receive: { kind: "file", dest: out.dest }, output: out };
    case "oci":
    case "docker":
      if (docker) throw new BuildOptionError("outputs", `-o type=${out.type} with --builder ${address.text}: Docker 20.10's embedded BuildKit has no ${out.type} exporter (only moby, local and tar); build with -t and docker save, or use a buildkitd (unix:// or tcp://)`);
      return { exporter: out.type, attrs: tags.length ? { name: tags.join(",") } : {}, receive: { kind: "file", dest: out.dest }, output: out };
    case "oci-layout":
      throw new BuildOptionError("outputs", `-o type=oci-layout is not supported with --builder; use type=oci (a tarball)`);
  }
}
