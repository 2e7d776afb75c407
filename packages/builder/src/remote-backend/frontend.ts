// The client as the build's frontend, over the LLB bridge (frontend/gateway/pb/gateway.proto),
// as buildx's client.Build does: solve each definition, then return the result with metadata
// — `containerimage.config`, the image config tbuild computed — which the exporter reads. A
// Control.Solve with a definition has no way to pass that metadata to Docker 20.10's moby
// exporter, which ignores exporter attributes for the config.
//
// Several target platforms are returned as dockerfile2llb's Build does it (frontend/
// dockerfile/builder/build.go, exptypes): one ref per platform in the result's `refs` map,
// keyed by the platform's ID ("linux/arm64"), the metadata `refs.platforms` listing them in
// order, and `containerimage.config/<id>` per platform; the image exporter then makes an index.
import { create } from "@bufbuild/protobuf";
import { gateway, type ControlConnection, type pb } from "@tbuild/llb";
import type { Platform } from "@tbuild/oci";

type Bridge = ReturnType<ControlConnection["bridge"]>;

export interface PlatformResult {
  platform: Platform;
  definition: pb.Definition;
  /** The image config, as JSON (`containerimage.config`). */
  config: string;
}

/** A platform's ID in `refs` and the metadata keys (platforms.Format: os/arch[/variant]). */
export function platformId(p: Platform): string {
  return [p.os, p.architecture, ...(p.variant ? [p.variant] : [])].join("/");
}

/** The daemon's LLB capabilities that are enabled (gateway.PongResponse.LLBCaps). */
export async function llbCapsOf(bridge: Bridge): Promise<Set<string>> {
  const pong = await bridge.ping();
  return new Set(pong.LLBCaps.filter((c) => c.Enabled).map((c) => c.ID));
}

/** Ends the build with an error the client found (a refused option, a failed conversion). */
export async function returnError(bridge: Bridge, e: unknown): Promise<void> {
  const message = (e as { details?: string }).details ?? (e as Error).message;
  await bridge.return(create(gateway.ReturnRequestSchema, { error: { code: (e as { code?: number }).code ?? 2, message } })).catch(() => {});
}

/** `cacheImports`: the daemon's cache imports (cache-options.ts), given with every Solve as buildx's gateway client does. */
export async function runFrontend(bridge: Bridge, results: PlatformResult[], signal: AbortSignal, cacheImports: { Type: string; Attrs: Record<string, string> }[] = []): Promise<void> {
  const ids: string[] = [];
  try {
    for (const r of results) {
      if (r.definition.def.length === 0) {
        ids.push("");
        continue;
      }
      const res = await bridge.solve(create(gateway.SolveRequestSchema, { Definition: r.definition, allowResultReturn: true, CacheImports: cacheImports.map((c) => create(gateway.CacheOptionsEntrySchema, c)) }), signal);
      const out = res.result?.result;
      ids.push(out?.case === "ref" ? out.value.id : out?.case === "refDeprecated" ? out.value : res.ref);
    }
  } catch (e) {
    // The build fails with this error: hand it to the waiting Solve, then report it.
    await returnError(bridge, e);
    throw e;
  }
  const ref = (id: string) => create(gateway.RefSchema, { id });
  let result: gateway.Result;
  if (results.length === 1) {
    const id = ids[0]!;
    result = create(gateway.ResultSchema, { result: id ? { case: "ref", value: ref(id) } : { case: undefined }, metadata: { "containerimage.config": Buffer.from(results[0]!.config) } });
  } else {
    const platforms = results.map((r) => ({ ID: platformId(r.platform), Platform: { os: r.platform.os, architecture: r.platform.architecture, ...(r.platform.variant ? { variant: r.platform.variant } : {}) } }));
    const metadata: Record<string, Buffer> = { "refs.platforms": Buffer.from(JSON.stringify({ Platforms: platforms })) };
    results.forEach((r, i) => (metadata[`containerimage.config/${platforms[i]!.ID}`] = Buffer.from(r.config)));
    result = create(gateway.ResultSchema, {
      result: { case: "refs", value: create(gateway.RefMapSchema, { refs: Object.fromEntries(platforms.map((p, i) => [p.ID, ref(ids[i]!)])) }) },
      metadata,
    });
  }
  await bridge.return(create(gateway.ReturnRequestSchema, { result }));
}
