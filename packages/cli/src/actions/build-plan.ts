// From `tbuild build` flags to BuildOptions: every check that can fail before the
// build starts happens here, and fails as a usage error (exit 2).

import { existsSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import type { BuildOptions, OutputSpec } from "../builder-api.js";
import { UsageError } from "../errors.js";
import { parseBuildArgs, parseLabels } from "../options/key-value.js";
import { parseOutputSpec } from "../options/output-spec.js";
import { parseCacheExport, parseCacheImport } from "../options/cache-spec.js";
import { parsePlatforms } from "../options/platform.js";
import { parseSecretSpec } from "../options/secret.js";
import { parseSize } from "../options/size.js";
import { parseUlimit } from "../options/ulimit.js";
import type { ProgressMode } from "../progress/renderer.js";
import type { DockerfileSource } from "../report/build-failure.js";
import { canonicalTags } from "./tags.js";

/** The flags of `tbuild build` as commander hands them over. */
export interface BuildFlags {
  file?: string;
  /** Read by the build action (a report after the build), not by the plan. */
  explainCache?: boolean;
  tag?: string[];
  buildArg?: string[];
  target?: string;
  cache: boolean;
  cacheFilter?: string[] | boolean;
  cacheFrom?: string[];
  cacheTo?: string[];
  platform?: string;
  label?: string[];
  secret?: string[];
  network?: "default" | "none" | "host";
  allow?: string[];
  ulimit?: string[];
  memory?: string;
  memorySwap?: string;
  pidsLimit?: string;
  progress: ProgressMode;
  quiet?: boolean;
  iidfile?: string;
  output?: string[];
  push?: boolean;
  insecureRegistry?: string[];
  executor: "auto" | "runc" | "unshare";
  snapshotter: "auto" | "overlay" | "copy";
  root?: string;
  builder?: string;
}

export interface BuildPlan {
  options: BuildOptions;
  dockerfile: DockerfileSource;
  progress: ProgressMode;
  quiet: boolean;
  iidfile?: string;
  /** Whether the image goes into the local store. */
  stored: boolean;
}

export interface PlanEnv {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Reads the Dockerfile from standard input (for `-f -`). */
  readStdin: () => string;
  /** False when `build` was implied (`tbuild -t x .`): a missing context may be a mistyped command. */
  explicitBuild: boolean;
}

/** Validates the flags and assembles the build's options. */
export function planBuild(contextArg: string, f: BuildFlags, penv: PlanEnv): BuildPlan {
  if (contextArg === "-") throw new UsageError("reading the build context from stdin is not supported; pass a directory (use -f - for a Dockerfile on stdin)");
  if (/^(https?|git):\/\//.test(contextArg) || contextArg.startsWith("git@")) {
    throw new UsageError(`remote build contexts (${contextArg}) are not supported; clone it and pass the directory`);
  }
  const options: BuildOptions = { context: "" };
  const tags = dedupe((f.tag ?? []).map((t) => t.trim()));
  for (const t of tags) if (t === "") throw new UsageError("--tag: empty name");
  canonicalTags(tags); // validates: a bad name is a usage error before anything runs
  if (tags.length) options.tags = tags;
  const buildArgs = parseBuildArgs(f.buildArg ?? [], penv.env);
  // As buildx (commands/build.go): a non-empty SOURCE_DATE_EPOCH in the environment is the
  // build arg unless --build-arg sets it.
  const epoch = penv.env.SOURCE_DATE_EPOCH;
  if (epoch && !("SOURCE_DATE_EPOCH" in buildArgs)) buildArgs.SOURCE_DATE_EPOCH = epoch;
  if (Object.keys(buildArgs).length) options.buildArgs = buildArgs;
  if (f.target !== undefined) {
    if (f.target.trim() === "") throw new UsageError("--target: empty stage name");
    options.target = f.target;
  }
  if (!f.cache) options.noCache = true;
  if (Array.isArray(f.cacheFilter) && f.cacheFilter.length) options.noCacheFilter = f.cacheFilter;
  if (f.cacheFrom?.length) options.cacheFrom = f.cacheFrom.map(parseCacheImport).map((c) => (c.type === "local" ? { ...c, src: resolve(penv.cwd, c.src) } : c));
  if (f.cacheTo?.length) options.cacheTo = f.cacheTo.map(parseCacheExport).map((c) => (c.type === "local" ? { ...c, dest: resolve(penv.cwd, c.dest) } : c));
  if (f.platform !== undefined) options.platform = parsePlatforms(f.platform);
  const labels = parseLabels(f.label ?? []);
  if (Object.keys(labels).length) options.labels = labels;
  if (f.secret?.length) {
    const secrets = f.secret.map((s) => parseSecretSpec(s, penv.env));
    const ids = new Set<string>();
    for (const s of secrets) {
      if (ids.has(s.id)) throw new UsageError(`--secret: id ${s.id} given twice`);
      ids.add(s.id);
      if (s.src !== undefined) {
        s.src = resolve(penv.cwd, s.src);
        if (!existsSync(s.src)) throw new UsageError(`--secret ${s.id}: file ${s.src} not found`);
      }
    }
    options.secrets = secrets;
  }
  if (f.network !== undefined) options.network = f.network;
  planLimits(f, options);
  for (const a of f.allow ?? []) {
    // network.host is BuildKit's other entitlement; tbuild allows host networking without it.
    if (a !== "security.insecure" && a !== "network.host") throw new UsageError(`--allow: unknown entitlement ${JSON.stringify(a)} (security.insecure or network.host)`);
    if (a === "security.insecure") options.allow = ["security.insecure"];
  }
  if (f.insecureRegistry?.length) options.insecureRegistries = f.insecureRegistry;
  if (f.executor !== "auto") options.executor = f.executor;
  if (f.snapshotter !== "auto") options.snapshotter = f.snapshotter;
  if (f.root !== undefined) options.root = resolve(penv.cwd, f.root);
  // A BuildKit daemon instead of the local solver (the builder checks the address).
  const builder = f.builder ?? (penv.env.TBUILD_BUILDER || undefined);
  if (builder !== undefined) {
    if (!/^(unix|tcp|docker):\/\//.test(builder)) throw new UsageError(`--builder ${builder}: expected unix:///path, tcp://host:port[,cacert=F,cert=F,key=F] or docker://unix:///path`);
    options.builder = builder;
  }

  const outputs: OutputSpec[] = (f.output ?? []).flatMap(parseOutputSpec).map((o) => ("dest" in o ? { ...o, dest: resolve(penv.cwd, o.dest) } : o));
  if (outputs.length === 0) outputs.push({ type: "store" });
  if (f.push) {
    if (tags.length === 0) throw new UsageError("--push needs at least one --tag naming where to push");
    for (const name of tags) if (!outputs.some((o) => o.type === "registry" && o.name === name)) outputs.push({ type: "registry", name });
  }
  checkDistinctDestinations(outputs);
  if (options.platform?.includes(",") && outputs.some((o) => o.type === "docker")) {
    // As BuildKit: a docker archive holds no image index (the builder refuses it too).
    throw new UsageError("--output type=docker: the docker exporter cannot export a multi-platform build (a docker archive holds no image index); build one --platform, or use type=oci or --push");
  }
  options.outputs = outputs;

  const context = resolve(penv.cwd, contextArg);
  if (!existsSync(context)) {
    if (!penv.explicitBuild && /^[a-z][a-z0-9-]*$/.test(contextArg)) {
      const err = new UsageError(`unknown command '${contextArg}' (and no directory of that name to build)`);
      err.command = "tbuild";
      throw err;
    }
    throw new UsageError(`build context ${contextArg} not found`);
  }
  if (!statSync(context).isDirectory()) throw new UsageError(`build context ${contextArg} is not a directory`);

  options.context = context;
  let dockerfile: DockerfileSource;
  if (f.file === "-") {
    options.dockerfileText = penv.readStdin();
    dockerfile = { name: "Dockerfile (stdin)", text: options.dockerfileText };
  } else {
    const path = f.file !== undefined ? resolve(penv.cwd, f.file) : join(context, "Dockerfile");
    const shown = f.file ?? (relative(penv.cwd, path) || path);
    if (!existsSync(path)) throw new UsageError(`cannot find the Dockerfile ${shown}${f.file === undefined ? " (use -f to name another file)" : ""}`);
    if (!statSync(path).isFile()) throw new UsageError(`Dockerfile ${shown} is not a file`);
    options.dockerfile = path;
    let text: string | undefined;
    try { text = readFileSync(path, "utf8"); } catch { /* the builder reports unreadable files */ }
    dockerfile = { name: shown, text };
  }

  const quiet = f.quiet === true;
  return {
    options,
    dockerfile,
    progress: quiet ? "quiet" : f.progress,
    quiet,
    iidfile: f.iidfile === undefined ? undefined : resolve(penv.cwd, f.iidfile),
    stored: outputs.some((o) => o.type === "store"),
  };
}

function checkDistinctDestinations(outputs: OutputSpec[]): void {
  const seen = new Set<string>();
  for (const o of outputs) {
    if (!("dest" in o)) continue;
    if (seen.has(o.dest)) throw new UsageError(`--output: two outputs write to ${o.dest}`);
    seen.add(o.dest);
  }
}

function dedupe(xs: string[]): string[] {
  return [...new Set(xs)];
}

/** --ulimit, --memory, --memory-swap, --pids-limit (docker build's meanings and minimums). */
function planLimits(f: BuildFlags, options: BuildOptions): void {
  if (f.ulimit?.length) {
    const ulimits = f.ulimit.map(parseUlimit);
    const names = new Set<string>();
    for (const u of ulimits) {
      if (names.has(u.name)) throw new UsageError(`--ulimit: ${u.name} given twice`);
      names.add(u.name);
    }
    options.ulimits = ulimits;
  }
  if (f.memory !== undefined) {
    const m = parseSize(f.memory, "--memory");
    // Docker's minimum: a smaller limit only makes the step die at start.
    if (m < 6 * 1024 * 1024) throw new UsageError("--memory: the minimum is 6MB");
    options.memory = m;
  }
  if (f.memorySwap !== undefined) {
    if (options.memory === undefined) throw new UsageError("--memory-swap needs --memory");
    const s = f.memorySwap.trim() === "-1" ? -1 : parseSize(f.memorySwap, "--memory-swap");
    if (s !== -1 && s < options.memory) throw new UsageError("--memory-swap must be at least --memory (it counts memory plus swap)");
    options.memorySwap = s;
  }
  if (f.pidsLimit !== undefined) {
    if (!/^\d+$/.test(f.pidsLimit.trim()) || Number(f.pidsLimit) < 1) throw new UsageError(`--pids-limit: ${JSON.stringify(f.pidsLimit)} is not a positive number`);
    options.pidsLimit = Number(f.pidsLimit);
  }
}
