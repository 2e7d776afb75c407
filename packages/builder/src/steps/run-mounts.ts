// RUN --mount: turns the parsed mount options into sandbox mounts. Cache mounts are
// directories kept in the store between builds; secrets are files in a private temp dir
// (or environment variables) that exist only while the command runs and never reach a
// layer, the history or the cache key.
import { createHash } from "node:crypto";
import { promises as fsp } from "node:fs";
import path from "node:path";
import type { MountSpec as ParsedMount } from "@tbuild/parser";
import { lockFile, tryLockFile, type FileLock } from "@tbuild/cache";
import type { MountSpec } from "../sandbox/index.js";
import { LayeredView } from "../fs/index.js";
import { copy, sourceTree, type CopySource } from "../fileops/index.js";
import type { ImageState } from "../image-state/state.js";
import type { BuildSession } from "../solve/session.js";
import { resolveCopyFrom } from "./copy-from.js";
import { readSecret } from "./secrets.js";

export interface PreparedMounts {
  /** What the mounts contribute to the step's cache key (never secret values). */
  keyParts: unknown[];
  /** Sandbox mounts, valid between open() and close(). */
  specs: MountSpec[];
  /** Secret environment variables, valid between open() and close(). */
  env: string[];
  open(): Promise<void>;
  close(): Promise<void>;
  /** Removes temp dirs made while preparing (after the step, hit or miss). */
  dispose(): Promise<void>;
}

interface Work {
  keyPart: unknown;
  open?: () => Promise<{ spec?: MountSpec; env?: string[]; release?: () => Promise<void> }>;
}

export async function prepareRunMounts(
  session: BuildSession,
  state: ImageState,
  mounts: readonly ParsedMount[],
  script: { name: string; content: string } | undefined,
): Promise<PreparedMounts> {
  const temps: string[] = [];
  const tempDir = async (kind: string) => {
    const d = await session.store.tempDir(`mount-${kind}`);
    temps.push(d);
    return d;
  };
  const work: Work[] = [];
  for (const m of mounts) work.push(await prepareOne(session, state, m, tempDir));
  if (script) {
    work.push({
      keyPart: null,
      open: async () => {
        const dir = await tempDir("script");
        const file = path.join(dir, "script");
        await fsp.writeFile(file, script.content, { mode: 0o755 });
        return { spec: { type: "bind", source: file, target: `/dev/pipes/${script.name}`, readonly: true } };
      },
    });
  }
  const specs: MountSpec[] = [];
  const env: string[] = [];
  const releases: (() => Promise<void>)[] = [];
  return {
    keyParts: work.map((w) => w.keyPart).filter((k) => k !== null),
    specs,
    env,
    async open() {
      for (const w of work) {
        const r = await w.open?.();
        if (r?.spec) specs.push(r.spec);
        if (r?.env) env.push(...r.env);
        if (r?.release) releases.push(r.release);
      }
    },
    async close() {
      for (const r of releases.splice(0).reverse()) await r().catch(() => {});
      specs.length = 0;
      env.length = 0;
    },
    async dispose() {
      await Promise.all(temps.map((d) => fsp.rm(d, { recursive: true, force: true })));
    },
  };
}

/** Copies `source` (a directory's contents, or a file) of a context or rootfs into `dir`. */
async function copyTree(from: CopySource, source: string, dir: string): Promise<void> {
  await copy({
    op: "copy", sources: [source], heredocs: [], dest: "/", workdir: "/",
    from, link: true, parents: false, excludes: [],
    target: { view: new LayeredView([]), layerDir: dir },
  });
}

/**
 * Copies a bind mount's source into `dir` and returns what to bind: BuildKit binds a file
 * source as that file, and a directory with its own mode (the copy's directory is made 0700).
 */
async function copyForBind(from: CopySource, source: string, dir: string): Promise<string> {
  const tree = sourceTree(from);
  const entry = await tree.lstat(await tree.resolve(source, true));
  await copyTree(from, source, dir);
  if (entry && entry.type !== "dir") return path.join(dir, path.posix.basename(source));
  if (entry) await fsp.chmod(dir, entry.mode & 0o7777);
  return dir;
}

function absTarget(target: string, workdir: string): string {
  return path.posix.resolve(workdir || "/", target);
}

async function prepareOne(
  session: BuildSession,
  state: ImageState,
  m: ParsedMount,
  tempDir: (kind: string) => Promise<string>,
): Promise<Work> {
  const workdir = state.config.config?.WorkingDir ?? "/";
  switch (m.type) {
    case "bind": {
      const target = absTarget(m.target, workdir);
      const source = path.posix.normalize("/" + (m.source ?? "/"));
      // A directory source (the context, with .dockerignore applied, or a named context) is
      // copied into a private dir, so that ignored files stay invisible and a writable mount
      // cannot touch the original; a stage or image is mounted as its layers.
      const named = m.from === undefined ? ({ kind: "dir", index: await session.contextIndex() } as const) : await resolveCopyFrom(session, m.from);
      const copyOf = (from: CopySource) => async () => {
        const dir = await tempDir("bind");
        return { spec: { type: "bind", source: await copyForBind(from, source, dir), target, readonly: m.readonly } as MountSpec };
      };
      if (named.kind === "dir") {
        const digest = await named.index.digest([source.slice(1) || "."]);
        return {
          keyPart: { type: "bind", from: m.from === undefined ? "context" : named.index.root, source, target, digest, rw: !m.readonly },
          open: copyOf({ kind: "context", index: named.index }),
        };
      }
      const fromState = named.state;
      return {
        keyPart: { type: "bind", from: fromState.fsKey, source, target, rw: !m.readonly },
        open: async () => {
          const layers = await session.layerDirs(fromState);
          if (source === "/") return { spec: { type: "layers", lowers: layers, target, readonly: m.readonly } };
          return copyOf({ kind: "view", view: new LayeredView(layers) })();
        },
      };
    }
    case "cache": {
      const target = absTarget(m.target, workdir);
      const id = m.id || target;
      // `from`/`source` seed a cache directory that does not exist yet.
      const seed = m.from !== undefined ? await resolveCopyFrom(session, m.from) : undefined;
      const seedSource = path.posix.normalize("/" + (m.source ?? "/"));
      return {
        keyPart: { type: "cache", target, id, sharing: m.sharing, ro: m.readonly },
        open: () =>
          openCacheMount(session, id, target, m, seed && ((dir) =>
            (async () => copyTree(seed.kind === "dir" ? { kind: "context", index: seed.index } : { kind: "view", view: new LayeredView(await session.layerDirs(seed.state)) }, seedSource, dir))())),
      };
    }
    case "tmpfs": {
      const target = absTarget(m.target, workdir);
      return { keyPart: { type: "tmpfs", target, size: m.size ?? null }, open: async () => ({ spec: { type: "tmpfs", target, ...(m.size ? { size: m.size } : {}) } }) };
    }
    case "secret": {
      // dispatchSecret (dockerfile2llb/convert_secrets.go): source= wins over id=, else the
      // target's base name; the default file is /run/secrets/<base name of the id>.
      const id = m.source || m.id || (m.target ? path.posix.basename(m.target) : "");
      if (!id) throw new Error(`RUN --mount=type=secret needs an id (or a target): ${m.raw}`);
      const target = m.env && !m.target ? undefined : absTarget(m.target ?? `/run/secrets/${path.posix.basename(id)}`, workdir);
      return {
        keyPart: { type: "secret", id, target: target ?? null, env: m.env ?? null },
        open: async () => {
          const value = await readSecret(session, id);
          if (value === undefined) {
            if (m.required) throw new Error(`secret ${id} is required but was not given (use --secret id=${id},src=FILE or env=VAR)`);
            // BuildKit sets the variable of a missing optional secret, empty (solver/llbsolver/ops/exec.go, loadSecretEnv).
            return m.env ? { env: [`${m.env}=`] } : {};
          }
          const env = m.env ? [`${m.env}=${value.toString("utf8")}`] : [];
          if (!target) return { env };
          const dir = await tempDir("secret");
          const file = path.join(dir, "secret");
          await fsp.writeFile(file, value, { mode: m.mode ?? 0o400 });
          await fsp.chown(file, m.uid ?? 0, m.gid ?? 0);
          return { env, spec: { type: "bind", source: file, target, readonly: true } };
        },
      };
    }
    case "ssh": {
      const target = absTarget(m.target ?? "/run/buildkit/ssh_agent.0", workdir);
      return {
        keyPart: { type: "ssh", id: m.id ?? "default", target },
        open: async () => {
          const sock = process.env.SSH_AUTH_SOCK;
          if (!sock) {
            if (m.required) throw new Error("RUN --mount=type=ssh needs an SSH agent: SSH_AUTH_SOCK is not set");
            return {};
          }
          return { spec: { type: "bind", source: sock, target, readonly: false }, env: [`SSH_AUTH_SOCK=${target}`] };
        },
      };
    }
  }
}

/** Cache-mount directories in use by this process, for `sharing=private`. */
const inUse = new Set<string>();

async function openCacheMount(
  session: BuildSession,
  id: string,
  target: string,
  m: Extract<ParsedMount, { type: "cache" }>,
  seed?: (dir: string) => Promise<void>,
): Promise<{ spec: MountSpec; release: () => Promise<void> }> {
  const root = path.join(session.store.root, "cache-mounts");
  const hex = createHash("sha256").update(id).digest("hex");
  let dir = path.join(root, hex);
  let lock: FileLock | undefined;
  if (m.sharing === "locked") {
    await fsp.mkdir(root, { recursive: true, mode: 0o700 });
    lock = await lockFile(`${dir}.lock`);
  } else if (m.sharing === "private") {
    // The first directory of the id that no build (in any process) holds; the lock says so.
    await fsp.mkdir(root, { recursive: true, mode: 0o700 });
    for (let i = 0; ; i++) {
      const candidate = i === 0 ? dir : path.join(root, `${hex}-${i}`);
      if (inUse.has(candidate)) continue;
      lock = await tryLockFile(`${candidate}.lock`);
      if (!lock) continue;
      dir = candidate;
      break;
    }
  }
  inUse.add(dir);
  try {
    const fresh = !(await fsp.stat(dir).catch(() => undefined));
    if (fresh && seed) {
      // Filled in a temp dir and renamed, so a failed seed leaves no half-filled cache.
      const tmp = await session.store.tempDir("cache-seed");
      await seed(tmp);
      await fsp.mkdir(root, { recursive: true, mode: 0o700 });
      await fsp.rename(tmp, dir).catch(async (e) => {
        await fsp.rm(tmp, { recursive: true, force: true });
        if ((e as NodeJS.ErrnoException).code !== "ENOTEMPTY" && (e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      });
    }
    // mkdir's mode is cut by the umask; BuildKit's mode=0777 means 0777.
    if (await fsp.mkdir(dir, { recursive: true }).then((made) => made !== undefined)) await fsp.chmod(dir, m.mode ?? 0o755);
    const st = await fsp.stat(dir);
    if (st.uid !== (m.uid ?? 0) || st.gid !== (m.gid ?? 0)) await fsp.chown(dir, m.uid ?? 0, m.gid ?? 0);
  } catch (e) {
    inUse.delete(dir);
    await lock?.release();
    throw e;
  }
  return {
    spec: { type: "bind", source: dir, target, readonly: m.readonly },
    release: async () => {
      inUse.delete(dir);
      await lock?.release();
    },
  };
}
