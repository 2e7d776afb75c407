// build() with `builder` set: the same Dockerfile front end (parser, IR, StageEvaluator,
// tbuild's config code) turned into an LLB definition and solved by a BuildKit daemon —
// buildkitd or Docker's embedded BuildKit. The session serves the context (with
// .dockerignore applied here), secrets and registry credentials; progress comes from
// Control.Status as the same events a local build emits.
import path from "node:path";
import { checkQuotes, defaultPlatform, formatPlatform, parseDockerfile, toStages } from "@tbuild/parser";
import { readIgnoreSpec } from "@tbuild/cache";
import { connectControl, control, defaultSshAgents, marshal, newId, parseBuilderAddress, startSession, type BuilderAddress, type ControlConnection, type Session, type SessionOptions, type SyncedDir } from "@tbuild/llb";
import { create } from "@bufbuild/protobuf";
import type { Digest, ImageConfig, Manifest, Platform } from "@tbuild/oci";
import type { BuildEvent, BuildOptions, BuildResult } from "../api-types.js";
import { BuildAbortedError, BuildCheckError, BuildOptionError, StepError, StepFailedError } from "../solve/errors.js";
import { checkContext, planTarget, readDockerfile, targetPlatforms } from "../solve/build-inputs.js";
import { unusedBuildArgs, unusedBuildArgsMessage } from "../solve/unused-build-args.js";
import { convertTarget, type Converted } from "./convert/convert.js";
import type { ConvertInputs } from "./convert/types.js";
import { namedContextDirs, ociLayoutStores } from "./convert/named-context.js";
import { dockerResolver, registryResolver } from "./base-config.js";
import { chooseExporter } from "./exporters.js";
import { daemonCacheOptions } from "./cache-options.js";
import { RemoteProgress } from "./progress.js";
import { checkRemoteOptions } from "./unsupported-options.js";
import { llbCapsOf, returnError, runFrontend } from "./frontend.js";

/** How long the daemon may take to accept the connection (gRPC would retry forever). */
const CONNECT_TIMEOUT_MS = 10_000;
/** How long a failed solve's status stream may take to deliver its last vertices. */
const STATUS_GRACE_MS = 5_000;

export async function runRemoteBuild(opts: BuildOptions & { builder: string }, emit: (e: BuildEvent) => void, started: number): Promise<BuildResult> {
  if (opts.signal?.aborted) throw new BuildAbortedError(opts.signal.reason);
  let address: BuilderAddress;
  try {
    address = parseBuilderAddress(opts.builder);
  } catch (e) {
    throw new BuildOptionError("builder", (e as Error).message, { cause: e });
  }
  checkRemoteOptions(opts);
  const context = path.resolve(opts.context);
  const dockerfile = path.resolve(context, opts.dockerfile ?? "Dockerfile");
  await checkContext(context);
  const text = opts.dockerfileText ?? (await readDockerfile(context, dockerfile));
  const ir = toStages(parseDockerfile(text, { file: path.basename(dockerfile) }));
  for (const w of ir.warnings) emit({ type: "warning", message: w.message, line: w.line, rule: w.rule, time: Date.now() });
  if (ir.checks.error && ir.warnings.length > 0) throw new BuildCheckError(ir.warnings);
  const needed = planTarget(ir, opts.target);
  checkQuotes(ir, needed);
  const targetStage = needed[needed.length - 1]!;
  // One conversion per target platform; several are returned as one result with a ref each (frontend.ts).
  const targets = targetPlatforms(opts);
  const multi = targets.length > 1;
  const buildArgs = new Map(Object.entries(opts.buildArgs ?? {}));
  const unused = unusedBuildArgs(ir, needed, buildArgs.keys());
  if (unused.length > 0) emit({ type: "warning", message: unusedBuildArgsMessage(unused), time: Date.now() });
  const exporter = chooseExporter(address, opts.outputs ?? [], opts.tags ?? [], targets.length);
  const cache = await daemonCacheOptions(address, opts, (message) => emit({ type: "warning", message, time: Date.now() }));

  const registry = registryResolver({ ...(opts.insecureRegistries ? { insecureRegistries: opts.insecureRegistries } : {}) });
  const resolveBase = address.kind === "docker" ? dockerResolver(address.socketPath, registry) : registry;
  // The connection and the session come up while the Dockerfile is converted. The Solve
  // (this client then acts as its frontend, frontend.ts) starts after the conversion, or
  // earlier when a step asks the daemon's LLB capabilities, which only its LLB bridge tells.
  // Started before every conversion, the Solve of a buildkitd session stream hung now and
  // then (a test with several builds on one daemon): only builds that need it pay that risk.
  const transfers: { dir: string; entries: number; files: number; bytes: number }[] = [];
  const ref = newId();
  const abort = new AbortController();
  const opened = openDaemon(address, {
    dirs: new Map<string, SyncedDir>([["context", { dir: context, excludes: (await readIgnoreSpec(context, dockerfile)).patterns }], ...(await namedContextDirs(opts.buildContexts))]),
    secrets: opts.secrets ?? [],
    // RUN --mount=type=ssh reaches $SSH_AUTH_SOCK as id "default", as a local build's does.
    ssh: defaultSshAgents(),
    sharedKey: context,
    ...(exporter.receive ? { receive: exporter.receive } : {}),
    onTransfer: (dirName, s) => transfers.push({ dir: dirName, ...s }),
    // OCI layouts the daemon reads (oci-layout:// contexts, --cache-from type=local) or writes (--cache-to type=local).
    contentStores: new Map([...ociLayoutStores(opts.buildContexts), ...cache.stores]),
  });
  opened.catch(() => {});
  let solving: ReturnType<typeof startSolve> | undefined;
  const startSolve = () =>
    opened.then((d) => {
      const solved = d.conn.solve(
        create(control.SolveRequestSchema, {
          Ref: ref,
          Session: d.session.id,
          ExporterDeprecated: exporter.exporter,
          ExporterAttrsDeprecated: exporter.attrs,
          Entitlements: opts.allow ?? [],
          ...(cache.exports.length ? { Cache: create(control.CacheOptionsSchema, { Exports: cache.exports.map((e) => create(control.CacheOptionsEntrySchema, e)) }) } : {}),
        }),
        abort.signal,
      );
      solved.catch(() => {});
      return { ...d, solved, bridge: d.conn.bridge(ref) };
    });
  const daemon = () => (solving ??= startSolve());
  let caps: Promise<Set<string>> | undefined;
  const llbCaps = () => (caps ??= daemon().then((d) => llbCapsOf(d.bridge)));
  const inputs: Omit<ConvertInputs, "platforms"> = {
    ir, buildArgs, ...(opts.network ? { network: opts.network } : {}), allow: opts.allow ?? [], noCache: opts.noCache ?? false, noCacheFilter: opts.noCacheFilter ?? [],
    ...(opts.ulimits?.length ? { ulimits: opts.ulimits } : {}), ...(opts.buildContexts ? { buildContexts: opts.buildContexts } : {}), stageCount: needed.length, resolveBase, builder: address.text, llbCaps,
  };
  const converted: (Converted & { platform: Platform; config: ImageConfig })[] = [];
  try {
    for (const target of targets) {
      const c = await convertTarget({ ...inputs, platforms: { target, build: defaultPlatform() }, ...(multi ? { stepPlatform: formatPlatform(target) } : {}) }, targetStage);
      let config = c.config;
      if (opts.labels && Object.keys(opts.labels).length) config = { ...config, config: { ...config.config, Labels: { ...config.config?.Labels, ...opts.labels } } };
      converted.push({ ...c, platform: target, config });
    }
  } catch (e) {
    if (solving) {
      const d = await solving.catch(() => undefined);
      if (d) {
        await returnError(d.bridge, e);
        await d.solved.catch(() => {});
        d.close();
      }
    } else (await opened.catch(() => undefined))?.close();
    throw e;
  }
  const marshalled = converted.map((c) => ({ ...c, ...marshal(c.root) }));
  const digests = new Map(marshalled.flatMap((m) => [...m.digests]));
  const config = converted[0]!.config;
  const platform = converted[0]!.platform;

  emit({
    type: "build-start",
    stages: needed.map((i) => ({ name: ir.stages[i]!.name ?? String(i), index: i, steps: ir.stages[i]!.instructions.length })),
    time: Date.now(),
  });
  const progress = new RemoteProgress(converted.flatMap((c) => c.steps), (sv) => (sv.vertex ? digests.get(sv.vertex) : undefined), emit);
  progress.begin();

  const { conn, session, solved, bridge } = await daemon();
  const receiver = session.receiver;
  const onCancel = () => abort.abort(opts.signal?.reason);
  opts.signal?.addEventListener("abort", onCancel, { once: true });
  const statusDone = (async () => {
    try {
      for await (const s of conn.status(ref, abort.signal)) progress.update(s);
    } catch {
      // The stream ends with the solve; a cancelled solve cancels it too.
    }
  })();
  try {
    const frontend = runFrontend(bridge, marshalled.map((m) => ({ platform: m.platform, definition: m.definition, config: JSON.stringify(m.config) })), abort.signal, cache.imports);
    const [res] = await Promise.all([solved, frontend]);
    await statusDone;
    await receiver?.done();
    await cache.finish(res.ExporterResponse);
    // Several platforms: containerimage.digest names the index the image/oci exporter made, and no one config.
    const imageId = (res.ExporterResponse["containerimage.config.digest"] ?? (multi ? "" : res.ExporterResponse["containerimage.digest"]) ?? "") as Digest;
    const manifestDigest = (res.ExporterResponse["containerimage.descriptor"] ? JSON.parse(Buffer.from(res.ExporterResponse["containerimage.descriptor"], "base64").toString()).digest : multi ? (res.ExporterResponse["containerimage.digest"] ?? "") : imageId) as Digest;
    // The daemon keeps the manifest (Docker 20.10 keeps none): only its config is named here.
    const manifest: Manifest = { schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: imageId, size: 0 }, layers: [] };
    return {
      imageId,
      manifestDigest,
      manifest,
      config,
      platform: { os: platform.os, architecture: platform.architecture, ...(platform.variant ? { variant: platform.variant } : {}) },
      steps: progress.stepResults(),
      outputs: [{ type: exporter.output.type, ...(opts.tags?.length && exporter.output.type === "store" ? { names: opts.tags } : {}), ...("dest" in exporter.output ? { dest: exporter.output.dest } : {}), ...(exporter.output.type === "registry" ? { ref: exporter.output.name } : {}), ...(imageId ? { manifestDigest } : {}) }],
      durationMs: Date.now() - started,
      remote: { builder: address.text, transfers },
    };
  } catch (e) {
    // The status stream tells which step failed; it normally ends with the solve, but a
    // broken connection may leave it open: wait a little, then stop it.
    await Promise.race([statusDone, new Promise((r) => setTimeout(r, STATUS_GRACE_MS).unref())]);
    abort.abort();
    await statusDone;
    if (opts.signal?.aborted) throw new BuildAbortedError(opts.signal.reason);
    throw solveError(e, progress, address.text);
  } finally {
    opts.signal?.removeEventListener("abort", onCancel);
    abort.abort();
    session.close();
    conn.close();
  }
}

/** Connects to the daemon and starts the session; closes what it opened if that fails. */
async function openDaemon(address: BuilderAddress, sessionOpts: SessionOptions): Promise<{ conn: ControlConnection; session: Session; close(): void }> {
  const conn = connectControl(address);
  try {
    await conn.ready(CONNECT_TIMEOUT_MS);
  } catch (e) {
    conn.close();
    throw new Error(`cannot reach BuildKit at ${address.text} within ${CONNECT_TIMEOUT_MS / 1000} s: nothing answered, or the TLS handshake failed (check cacert, cert and key)`, { cause: e });
  }
  try {
    const session = await startSession(conn, sessionOpts);
    return { conn, session, close: () => { session.close(); conn.close(); } };
  } catch (e) {
    conn.close();
    throw e;
  }
}

/** The daemon's error as tbuild's: the failing step (its Dockerfile line) and, for a RUN, its exit code. */
function solveError(e: unknown, progress: RemoteProgress, builder: string): Error {
  const details = (e as { details?: string }).details ?? (e as Error).message ?? String(e);
  // gRPC UNAVAILABLE: nothing answered at the address.
  if ((e as { code?: number }).code === 14) return new Error(`cannot reach BuildKit at ${builder}: ${details.replace(/\s*Resolution note:.*$/s, "")}`, { cause: e });
  const failed = progress.failed;
  if (!failed) return new Error(`BuildKit: ${details}`, { cause: e });
  const code = /exit code: (\d+)/.exec(failed.error) ?? /exit code: (\d+)/.exec(details);
  if (failed.argv && code) return new StepFailedError(failed.step, failed.argv, Number(code[1]), failed.tail);
  return new StepError(failed.step, failed.error, { cause: e });
}
