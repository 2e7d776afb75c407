// Reads a compose file into the builds `tbuild compose build` runs: one BuildOptions
// per service with a `build:` section, following the compose specification for the
// short (`build: ./dir`) and long forms, default image names (`<project>-<service>`),
// `.env` and environment interpolation, and build secrets.

import { readFileSync } from "node:fs";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import type { BuildOptions, SecretSpec } from "../builder-api.js";
import { CommandError, UsageError } from "../errors.js";
import { parsePlatforms } from "../options/platform.js";
import { parseCacheExport, parseCacheImport } from "../options/cache-spec.js";
import { parseDotEnv } from "./dotenv.js";
import { interpolateTree, type Lookup } from "./interpolate.js";
import { findComposeFile, normalizeProjectName } from "./discover.js";

/** One service to build. */
export interface ServiceBuild {
  service: string;
  /** Options for build(); `root`, `outputs` and `signal` are the caller's to add. */
  options: BuildOptions;
  /** For error excerpts: the Dockerfile's display name and path (or inline text). */
  dockerfileName: string;
}

export interface ComposeProject {
  name: string;
  dir: string;
  file: string;
  builds: ServiceBuild[];
  /** Services without `build:`, left alone. */
  skipped: string[];
  warnings: string[];
  /** The interpolated compose model and the variable lookup, for planning `up` (services.ts). */
  model: Record<string, unknown>;
  lookup: Lookup;
}

export interface LoadOptions {
  file: string;
  projectName?: string;
  /** Explicit env file; default `<project dir>/.env` when it exists. */
  envFile?: string;
  env?: NodeJS.ProcessEnv;
  /** Only these services (all buildable ones when empty). */
  services?: readonly string[];
}

const knownBuildKeys = new Set([
  "context", "dockerfile", "dockerfile_inline", "args", "target", "tags", "labels", "network",
  "no_cache", "secrets", "platforms", "pull", "cache_from", "cache_to",
]);

/** The project of a compose command's flags (-f, -p, --env-file), its warnings printed. */
export function loadProjectOf(f: { file?: string; projectName?: string; envFile?: string }, services?: readonly string[]): ComposeProject {
  const cwd = process.cwd();
  const project = loadComposeProject({
    file: findComposeFile(cwd, f.file),
    projectName: f.projectName,
    envFile: f.envFile === undefined ? undefined : resolve(cwd, f.envFile),
    ...(services ? { services } : {}),
  });
  for (const w of project.warnings) process.stderr.write(`WARN: ${w}\n`);
  return project;
}

/** Loads and interpolates `opts.file` and plans its builds. */
export function loadComposeProject(opts: LoadOptions): ComposeProject {
  const env = opts.env ?? process.env;
  const dir = dirname(opts.file);
  const warnings: string[] = [];
  const dotenv = readEnvFile(opts.envFile ?? join(dir, ".env"), opts.envFile !== undefined, env);
  const lookup: Lookup = (name) => env[name] ?? dotenv.get(name);
  const unset = new Set<string>();

  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(opts.file, "utf8"));
  } catch (err) {
    throw new CommandError(`${opts.file}: ${(err as Error).message.split("\n")[0]}`, { cause: err });
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) throw new CommandError(`${opts.file}: not a compose file (top level must be a mapping)`);
  const model = interpolateTree(doc, { lookup, onUnset: (n) => unset.add(n) }) as Record<string, unknown>;
  for (const n of unset) warnings.push(`the "${n}" variable is not set; defaulting to a blank string`);

  const name = normalizeProjectName(opts.projectName ?? lookup("COMPOSE_PROJECT_NAME") ?? str(model.name) ?? basename(dir));
  if (name === "") throw new UsageError(`cannot derive a project name from ${JSON.stringify(basename(dir))}; use --project-name`);
  const services = asMap(model.services, "services", opts.file);
  const topSecrets = model.secrets === undefined ? {} : asMap(model.secrets, "secrets", opts.file);

  for (const wanted of opts.services ?? []) {
    if (!(wanted in services)) throw new UsageError(`no such service: ${wanted}`);
  }
  const builds: ServiceBuild[] = [];
  const skipped: string[] = [];
  for (const [service, raw] of Object.entries(services)) {
    if (opts.services?.length && !opts.services.includes(service)) continue;
    const svc = raw === null ? {} : asMap(raw, `services.${service}`, opts.file);
    if (svc.build === undefined) {
      skipped.push(service);
      continue;
    }
    builds.push(planService(service, svc, { dir, project: name, file: opts.file, lookup, topSecrets, warnings }));
  }
  if (opts.services?.length) {
    const noBuild = opts.services.filter((s) => skipped.includes(s));
    if (noBuild.length) warnings.push(`${noBuild.join(", ")}: no build section, nothing to build`);
  }
  return { name, dir, file: opts.file, builds, skipped, warnings, model, lookup };
}

interface PlanContext {
  dir: string;
  project: string;
  file: string;
  lookup: Lookup;
  topSecrets: Record<string, unknown>;
  warnings: string[];
}

function planService(service: string, svc: Record<string, unknown>, ctx: PlanContext): ServiceBuild {
  const where = `services.${service}.build`;
  const build = typeof svc.build === "string" ? { context: svc.build } : asMap(svc.build, where, ctx.file);
  for (const k of Object.keys(build)) {
    if (!knownBuildKeys.has(k) && !k.startsWith("x-")) ctx.warnings.push(`${service}: ignoring unsupported build option ${k}`);
  }
  const contextRaw = str(build.context) ?? ".";
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(contextRaw) || contextRaw.startsWith("git@")) {
    throw new CommandError(`${where}.context: remote contexts (${contextRaw}) are not supported; clone it and point context at the directory`);
  }
  const context = resolve(ctx.dir, contextRaw);
  const options: BuildOptions = { context };
  let dockerfileName: string;
  const inline = str(build.dockerfile_inline);
  if (inline !== undefined) {
    if (build.dockerfile !== undefined) throw new CommandError(`${where}: dockerfile and dockerfile_inline are mutually exclusive`);
    options.dockerfileText = inline;
    dockerfileName = `${service} (dockerfile_inline)`;
  } else {
    const df = str(build.dockerfile) ?? "Dockerfile";
    options.dockerfile = isAbsolute(df) ? df : join(context, df);
    dockerfileName = options.dockerfile;
  }
  const args = keyValues(build.args, `${where}.args`, ctx);
  if (Object.keys(args).length) options.buildArgs = args;
  const labels = keyValues(build.labels, `${where}.labels`, ctx);
  if (Object.keys(labels).length) options.labels = labels;
  if (build.target !== undefined) options.target = requireStr(build.target, `${where}.target`);
  options.tags = [str(svc.image) ?? `${ctx.project}-${service}`, ...strList(build.tags, `${where}.tags`)];
  if (build.network !== undefined) {
    const n = requireStr(build.network, `${where}.network`);
    if (n !== "default" && n !== "none" && n !== "host") throw new CommandError(`${where}.network: ${n} is not supported (use default, none or host)`);
    options.network = n;
  }
  if (build.no_cache === true) options.noCache = true;
  // cache_from / cache_to take buildx's --cache-from / --cache-to values (compose build spec).
  const cacheFrom = strList(build.cache_from, `${where}.cache_from`).map((v) => inKey(`${where}.cache_from`, () => parseCacheImport(v)));
  if (cacheFrom.length) options.cacheFrom = cacheFrom.map((c) => (c.type === "local" ? { ...c, src: resolve(ctx.dir, c.src) } : c));
  const cacheTo = strList(build.cache_to, `${where}.cache_to`).map((v) => inKey(`${where}.cache_to`, () => parseCacheExport(v)));
  if (cacheTo.length) options.cacheTo = cacheTo.map((c) => (c.type === "local" ? { ...c, dest: resolve(ctx.dir, c.dest) } : c));
  // build.platforms builds every platform listed (an image index); service.platform only one.
  const platforms = strList(build.platforms, `${where}.platforms`);
  const platform = platforms.length ? platforms.join(",") : str(svc.platform);
  if (platform !== undefined) options.platform = parsePlatforms(platform);
  const secrets = secretsFor(build.secrets, `${where}.secrets`, ctx);
  if (secrets.length) options.secrets = secrets;
  return { service, options, dockerfileName };
}

/** Build secrets: names (or {source,target}) of top-level secrets with `file:` or `environment:`. */
function secretsFor(value: unknown, where: string, ctx: PlanContext): SecretSpec[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new CommandError(`${where} must be a list`);
  return value.map((item, i) => {
    const ref = typeof item === "string" ? { source: item } : asMap(item, `${where}[${i}]`, ctx.file);
    const source = requireStr(ref.source, `${where}[${i}].source`);
    const def = ctx.topSecrets[source];
    if (def === undefined) throw new CommandError(`${where}: secret ${source} is not defined in the top-level secrets section`);
    const d = asMap(def, `secrets.${source}`, ctx.file);
    const id = str(ref.target) ?? source;
    if (typeof d.file === "string") return { id, src: resolve(ctx.dir, d.file) };
    if (typeof d.environment === "string") return { id, env: d.environment };
    throw new CommandError(`secrets.${source}: only file: and environment: secrets can be used in builds`);
  });
}

/** `args`/`labels` in map form (`K: v`, `K:` = from environment) or list form (`K=v`, `K`). */
export function keyValues(value: unknown, where: string, ctx: Pick<PlanContext, "lookup" | "file">): Record<string, string> {
  const out: Record<string, string> = {};
  if (value === undefined || value === null) return out;
  if (Array.isArray(value)) {
    for (const item of value) {
      const s = requireStr(item, where);
      const eq = s.indexOf("=");
      if (eq === -1) {
        const v = ctx.lookup(s);
        if (v !== undefined) out[s] = v;
      } else out[s.slice(0, eq)] = s.slice(eq + 1);
    }
    return out;
  }
  for (const [k, v] of Object.entries(asMap(value, where, ctx.file))) {
    if (v === null || v === undefined) {
      const env = ctx.lookup(k);
      if (env !== undefined) out[k] = env;
    } else if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") out[k] = String(v);
    else throw new CommandError(`${where}.${k} must be a string`);
  }
  return out;
}

function readEnvFile(path: string, required: boolean, env: NodeJS.ProcessEnv): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if (!required && (err as NodeJS.ErrnoException).code === "ENOENT") return new Map();
    throw new CommandError(`cannot read env file ${path}: ${(err as Error).message}`, { cause: err });
  }
  return parseDotEnv(text, (n) => env[n], path);
}

export function asMap(v: unknown, where: string, file: string): Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw new CommandError(`${file}: ${where} must be a mapping`);
  return v as Record<string, unknown>;
}

export function str(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (typeof v === "number") return String(v);
  return undefined;
}

export function requireStr(v: unknown, where: string): string {
  const s = str(v);
  if (s === undefined) throw new CommandError(`${where} must be a string`);
  return s;
}

export function strList(v: unknown, where: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new CommandError(`${where} must be a list`);
  return v.map((x) => requireStr(x, where));
}

/** A flag parser's usage error, as an error of the compose key that held the value. */
function inKey<T>(where: string, parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    throw new CommandError(`${where}: ${(e as Error).message.replace(/^--cache-(from|to):? ?/, "")}`);
  }
}
