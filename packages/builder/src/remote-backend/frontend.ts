// The client as the build's frontend, over the LLB bridge (frontend/gateway/pb/gateway.proto),
// as buildx's client.Build does: solve the definition, then return its result with metadata
// — `containerimage.config`, the image config tbuild computed — which the exporter reads. A
// Control.Solve with a definition has no way to pass that metadata to Docker 20.10's moby
// exporter, which ignores exporter attributes for the config.
import { create } from "@bufbuild/protobuf";
import { gateway, type ControlConnection, type pb } from "@tbuild/llb";

export async function runFrontend(conn: ControlConnection, buildRef: string, definition: pb.Definition, metadata: Record<string, string>, signal: AbortSignal): Promise<void> {
  const bridge = conn.bridge(buildRef);
  const meta = Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, Buffer.from(v)]));
  let id = "";
  try {
    if (definition.def.length > 0) {
      const res = await bridge.solve(create(gateway.SolveRequestSchema, { Definition: definition, allowResultReturn: true }), signal);
      const r = res.result?.result;
      id = r?.case === "ref" ? r.value.id : r?.case === "refDeprecated" ? r.value : res.ref;
    }
  } catch (e) {
    // The build fails with this error: hand it to the waiting Solve, then report it.
    const message = (e as { details?: string }).details ?? (e as Error).message;
    await bridge.return(create(gateway.ReturnRequestSchema, { error: { code: (e as { code?: number }).code ?? 2, message } })).catch(() => {});
    throw e;
  }
  await bridge.return(
    create(gateway.ReturnRequestSchema, {
      result: create(gateway.ResultSchema, { result: id ? { case: "ref", value: create(gateway.RefSchema, { id }) } : { case: undefined }, metadata: meta }),
    }),
  );
}
