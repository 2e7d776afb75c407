// Containers as store objects: a folder per container, its name reserved by an O_EXCL
// file, its state rewritten whole. Readers reconcile: a container whose supervisor died
// (kill -9 of its monitor; the sandbox dies with it, see tbuild-enter's lifeline) is
// recorded as exited and its network attachment undone, by whichever command looks first.
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { isOwnerAlive } from "@tbuild/cache";
import { RuntimeError } from "../errors.js";
import { RuntimeLayout } from "../layout.js";
import { newId, NAME_RE, randomName } from "../util/ids.js";
import { readJson, writeJson } from "../util/json-file.js";
import { withRuntimeLock } from "../util/lock.js";
import { initialState, type ContainerConfig, type ContainerState } from "./types.js";

export interface Container {
  config: ContainerConfig;
  state: ContainerState;
  dir: string;
}

/** True while process `pid` started at `start` runs (a zombie, whose parent has not reaped it yet, does not). */
export function processAlive(pid: number, start: string | undefined): boolean {
  if (pid <= 0 || start === undefined || !isOwnerAlive(pid, start)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(")") + 2));
  } catch {
    return false;
  }
}

/** True while the process that supervises the container lives. */
export function supervisorAlive(s: ContainerState): boolean {
  return processAlive(s.monitorPid, s.monitorStart);
}

export class ContainerStore {
  readonly layout: RuntimeLayout;
  /** Undoes a dead container's network attachment (set by the network module, to keep imports one-way). */
  static detachHook: ((layout: RuntimeLayout, c: Container) => Promise<void>) | undefined;
  /** Removes a dead --rm container (set by remove.ts, which needs the volume module). */
  static autoRemoveHook: ((root: string, c: Container) => Promise<void>) | undefined;

  constructor(root: string) {
    this.layout = new RuntimeLayout(root);
  }

  /** Creates the container's folder, reserving its name; `fill` gets the id and name. */
  async create(name: string | undefined, fill: (id: string, name: string) => Omit<ContainerConfig, "id" | "name" | "created">): Promise<Container> {
    const L = this.layout;
    await mkdir(L.namesDir, { recursive: true });
    await mkdir(L.containersDir, { recursive: true });
    if (name !== undefined && !NAME_RE.test(name)) throw new RuntimeError(`invalid container name "${name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    const id = newId();
    const chosen = await withRuntimeLock(L, async () => {
      for (let attempt = 0; ; attempt++) {
        const n = name ?? randomName() + (attempt > 4 ? `_${attempt}` : "");
        try {
          await writeFile(path.join(L.namesDir, n), id, { flag: "wx" });
          return n;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
          if (name !== undefined) {
            const holder = (await readFile(path.join(L.namesDir, n), "utf8").catch(() => "")).trim();
            throw new RuntimeError(`the container name "/${name}" is already in use by container "${holder}"; remove (or rename) that container to be able to reuse that name`);
          }
        }
      }
    });
    const dir = L.container(id);
    try {
      await mkdir(path.join(dir, "upper"), { recursive: true, mode: 0o755 });
      await mkdir(path.join(dir, "work"), { recursive: true, mode: 0o700 });
      const config: ContainerConfig = { id, name: chosen, created: new Date().toISOString(), ...fill(id, chosen) };
      await writeJson(L, path.join(dir, "config.json"), config);
      const state = initialState();
      await writeJson(L, path.join(dir, "state.json"), state);
      return { config, state, dir };
    } catch (e) {
      await rm(dir, { recursive: true, force: true });
      await rm(path.join(L.namesDir, chosen), { force: true });
      throw e;
    }
  }

  /** Every container, newest first. */
  async list(): Promise<Container[]> {
    const ids = await readdir(this.layout.containersDir).catch(() => [] as string[]);
    const out: Container[] = [];
    for (const id of ids) {
      const c = await this.load(id);
      if (c) out.push(c);
    }
    return out.sort((a, b) => b.config.created.localeCompare(a.config.created));
  }

  /** One container by id, or undefined; its state reconciled with the living processes. */
  async load(id: string, opts: { reconcile?: boolean } = {}): Promise<Container | undefined> {
    const dir = this.layout.container(id);
    const config = await readJson<ContainerConfig>(path.join(dir, "config.json"));
    if (!config) return undefined;
    const state = (await readJson<ContainerState>(path.join(dir, "state.json"))) ?? initialState();
    const c = { config, state, dir };
    if (opts.reconcile !== false && !(await this.reconcile(c))) return undefined;
    return c;
  }

  /** Finds a container by full id, name, or unique id prefix; a RuntimeError when none or several match. */
  async find(ref: string): Promise<Container> {
    const byName = (await readFile(path.join(this.layout.namesDir, ref.replace(/^\//, "")), "utf8").catch(() => undefined))?.trim();
    if (byName) {
      const c = await this.load(byName);
      if (c) return c;
    }
    if (/^[0-9a-f]{1,64}$/.test(ref)) {
      const ids = (await readdir(this.layout.containersDir).catch(() => [] as string[])).filter((id) => id.startsWith(ref));
      if (ids.length > 1) throw new RuntimeError(`multiple containers match the prefix "${ref}"; give more characters of the ID`);
      if (ids.length === 1) {
        const c = await this.load(ids[0]!);
        if (c) return c;
      }
    }
    throw new RuntimeError(`no such container: ${ref}`);
  }

  /** Pending state writes per container: they land in the order they were asked for. */
  readonly #writes = new Map<string, Promise<void>>();

  async writeState(c: Container, update: Partial<ContainerState>): Promise<ContainerState> {
    c.state = { ...c.state, ...update };
    const snapshot = c.state;
    const file = path.join(c.dir, "state.json");
    // A healthcheck's write must not land after the supervisor's "exited": one queue per file.
    const next = (this.#writes.get(file) ?? Promise.resolve()).then(() => writeJson(this.layout, file, snapshot));
    this.#writes.set(file, next.catch(() => {}));
    await next;
    return snapshot;
  }

  /**
   * stop, kill and rm -f tell the supervisor not to restart the container with a marker
   * file, not a state field: the supervisor rewrites the state whole and would lose it.
   */
  async requestStop(c: Container): Promise<void> {
    await writeFile(path.join(c.dir, "stop-requested"), "");
  }

  stopRequested(c: Container): boolean {
    return existsSync(path.join(c.dir, "stop-requested"));
  }

  async clearStopRequest(c: Container): Promise<void> {
    await rm(path.join(c.dir, "stop-requested"), { force: true });
  }

  /** Re-reads the state from disk (another process may have written it). */
  async refresh(c: Container): Promise<ContainerState> {
    c.state = (await readJson<ContainerState>(path.join(c.dir, "state.json"))) ?? c.state;
    if (existsSync(c.dir)) await this.reconcile(c);
    return c.state;
  }

  /**
   * A running or restarting container whose supervisor is gone is exited: its sandbox died
   * with the supervisor (the helper's lifeline), so only the record and the network are left.
   */
  private async reconcile(c: Container): Promise<boolean> {
    const s = c.state;
    if ((s.status === "running" || s.status === "restarting") && !supervisorAlive(s)) {
      await ContainerStore.detachHook?.(this.layout, c);
      // A --rm container's supervisor would have removed it: do it for the supervisor.
      if (c.config.autoRemove && ContainerStore.autoRemoveHook) {
        await ContainerStore.autoRemoveHook(this.layout.root, c);
        return false;
      }
      await this.writeState(c, {
        status: "exited",
        pid: 0,
        exitCode: s.status === "running" ? 137 : s.exitCode,
        error: s.error || "the container's monitor process ended unexpectedly (killed?); the container was killed with it",
        finishedAt: new Date().toISOString(),
        attachment: undefined,
      });
    }
    return true;
  }

  /** Removes the container's folder and name (the caller made sure it is not running). */
  async remove(c: Container): Promise<void> {
    await withRuntimeLock(this.layout, async () => {
      const nameFile = path.join(this.layout.namesDir, c.config.name);
      if ((await readFile(nameFile, "utf8").catch(() => "")).trim() === c.config.id) await rm(nameFile, { force: true });
    });
    await rm(c.dir, { recursive: true, force: true });
  }
}
