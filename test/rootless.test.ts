// Rootless mode end to end: the `tbuild` command run by an unprivileged user with a
// /etc/subuid range builds the same image as root, layer for layer (with SOURCE_DATE_EPOCH
// the layer digests are equal, so contents, modes and ownership are byte-identical), and a
// RUN step there is contained as under root: seccomp, Docker's capabilities (in the user
// namespace), no mount, no nested user namespace, no host devices it can change, no way to
// the host's root. Needs root (to create the test user and its subordinate ids), uidmap,
// busybox-static; the bundle is copied somewhere the user can read.
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, chownSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliMain, repoRoot } from "../packages/cli/test-support/run-cli.js";

const USER = "tbuild-rootless";
const IN_CI = process.env.CI === "true";

function unavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root to create the test user";
  for (const tool of ["newuidmap", "newgidmap", "busybox", "useradd"]) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) return `${tool} is not installed`;
  }
  return undefined;
}
const skip = unavailable();
if (skip && IN_CI) throw new Error(`rootless tests cannot run in CI: ${skip}`);

/** Creates the test user with a subordinate id range (idempotent). */
function ensureUser(): { uid: number; gid: number } {
  if (spawnSync("id", ["-u", USER]).status !== 0) execFileSync("useradd", ["--create-home", "--shell", "/bin/sh", USER]);
  const hasRange = (f: string) => readFileSync(f, "utf8").split("\n").some((l) => l.startsWith(`${USER}:`));
  if (!hasRange("/etc/subuid") || !hasRange("/etc/subgid")) {
    execFileSync("usermod", ["--add-subuids", "300000-365535", "--add-subgids", "300000-365535", USER]);
  }
  return { uid: Number(execFileSync("id", ["-u", USER]).toString()), gid: Number(execFileSync("id", ["-g", USER]).toString()) };
}

/** The layer diffIDs of the image in an OCI archive. */
function diffIds(tar: string): string[] {
  const index = JSON.parse(execFileSync("tar", ["-xOf", tar, "index.json"]).toString()) as { manifests: { digest: string }[] };
  const manifest = JSON.parse(execFileSync("tar", ["-xOf", tar, `blobs/sha256/${index.manifests[0]!.digest.slice(7)}`]).toString()) as { config: { digest: string } };
  const config = JSON.parse(execFileSync("tar", ["-xOf", tar, `blobs/sha256/${manifest.config.digest.slice(7)}`]).toString()) as { rootfs: { diff_ids: string[] } };
  return config.rootfs.diff_ids;
}

describe.skipIf(skip !== undefined)("rootless tbuild", { timeout: 300_000 }, () => {
  let work: string;
  let bundle: string;
  let who: { uid: number; gid: number };

  /** Runs the copied CLI as the test user (or as root with `asRoot`). */
  const run = (args: string[], o: { asRoot?: boolean; env?: Record<string, string> } = {}) => {
    const env = { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", HOME: o.asRoot ? "/root" : `/home/${USER}`, NO_COLOR: "1", ...o.env };
    const r = spawnSync(process.execPath, [`${bundle}/main.js`, ...args], {
      cwd: work, env, encoding: "utf8", timeout: 240_000,
      ...(o.asRoot ? {} : { uid: who.uid, gid: who.gid }),
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  beforeAll(() => {
    who = ensureUser();
    work = mkdtempSync("/tmp/tbuild-rootless-");
    chmodSync(work, 0o755);
    bundle = path.join(work, "bundle");
    cpSync(path.dirname(cliMain), bundle, { recursive: true });
    execFileSync("bash", [path.join(repoRoot, "fixtures/base/busybox-rootfs.sh"), `${work}/busybox.tar`], { stdio: "ignore" });
    chmodSync(`${work}/busybox.tar`, 0o644);
    mkdirSync(`${work}/ctx`);
    writeFileSync(`${work}/ctx/Dockerfile`, [
      "FROM busybox",
      "ARG SOURCE_DATE_EPOCH",
      "RUN echo app:x:1000:1000::/home/app:/bin/sh >> /etc/passwd && mkdir -p /home/app /data/sub && echo hi > /data/f && chown -R 1000:100 /data && chmod 640 /data/f && ln -s /data/f /link && chown -h 1000:1000 /link",
      "COPY --chown=1000:1000 hello.txt /home/app/hello.txt",
      "RUN rm /bin/vi && rm -rf /data/sub && mkdir /data/sub && echo new > /data/sub/g && mkfifo /fifo && chown 65534:65534 /fifo",
      "",
    ].join("\n"));
    writeFileSync(`${work}/ctx/hello.txt`, "hello\n");
    writeFileSync(`${work}/ctx/probe.Dockerfile`, [
      "FROM busybox",
      "RUN grep -E '^(Seccomp|NoNewPrivs|CapEff|CapBnd):' /proc/self/status;" +
        " (unshare -U true 2>/dev/null && echo NESTED_USERNS) || echo no-userns;" +
        " (mkdir -p /m && mount -t tmpfs none /m 2>/dev/null && echo MOUNTED) || echo no-mount;" +
        " (echo x > /proc/sys/kernel/core_pattern) 2>/dev/null && echo CORE || echo no-core;" +
        " (chmod 600 /dev/null 2>/dev/null && echo CHMOD_DEVNULL) || echo no-chmod;" +
        " echo x > /dev/null && echo devnull-ok; ls /; id -u",
      "",
    ].join("\n"));
    for (const p of ["ctx", "ctx/Dockerfile", "ctx/hello.txt", "ctx/probe.Dockerfile"]) chownSync(`${work}/${p}`, who.uid, who.gid);
    mkdirSync(`${work}/out`);
    chownSync(`${work}/out`, who.uid, who.gid);
    chmodSync(`${work}/out`, 0o777);
  });
  afterAll(() => {
    // The user's store holds files of its subordinate ids: remove it through the namespace.
    spawnSync("su", [USER, "-s", "/bin/sh", "-c", "unshare --map-auto --map-root-user rm -rf ~/.local/share/tbuild"], { stdio: "ignore" });
    if (work && !process.env.TBUILD_KEEP) rmSync(work, { recursive: true, force: true });
  });

  it("builds the same layers as root, byte for byte", () => {
    const rootStore = `${work}/root-store`;
    const epoch = ["--build-arg", "SOURCE_DATE_EPOCH=1700000000"];
    for (const asRoot of [true, false]) {
      const storeArgs = asRoot ? ["--root", rootStore] : [];
      const imp = run([...storeArgs, "import", `${work}/busybox.tar`, "busybox:latest"], { asRoot });
      expect(imp.code, imp.stderr).toBe(0);
      const dest = `${work}/out/${asRoot ? "root" : "rootless"}.tar`;
      const b = run([...storeArgs, "build", "--progress", "plain", "--no-cache", ...epoch, "-o", `type=oci,dest=${dest}`, "ctx"], { asRoot });
      expect(b.code, b.stderr).toBe(0);
    }
    const root = diffIds(`${work}/out/root.tar`);
    const rootless = diffIds(`${work}/out/rootless.tar`);
    expect(root).toHaveLength(4);
    expect(rootless).toEqual(root);
  });

  it("keeps the store in the user's home, owned by the user and its subordinate ids", () => {
    const store = `/home/${USER}/.local/share/tbuild`;
    expect(statSync(store).uid).toBe(who.uid);
    // /data in the first RUN layer is uid 1000 in the image: the user's subordinate id start + 999 on the host.
    const start = Number(readFileSync("/etc/subuid", "utf8").split("\n").find((l) => l.startsWith(`${USER}:`))!.split(":")[1]);
    const owners = execFileSync("find", [store, "-path", "*/fs/data", "-printf", "%U\n"]).toString().split("\n").filter(Boolean);
    expect(owners).toContain(String(start + 999));
  });

  it("contains a RUN step as under root", () => {
    const r = run(["build", "--progress", "plain", "--no-cache", "-f", "ctx/probe.Dockerfile", "ctx"]);
    expect(r.code, r.stderr).toBe(0);
    // Only what the step printed (the progress also echoes the command, which names the markers).
    const out = r.stderr.split("\n").filter((l) => /^#\d+ \d+\.\d{3} /.test(l)).join("\n");
    expect(out).toMatch(/Seccomp:\s+2/);
    expect(out).toMatch(/NoNewPrivs:\s+0/);
    expect(out).toMatch(/CapBnd:\s+00000000a80425fb/);
    for (const bad of ["NESTED_USERNS", "MOUNTED", "CORE", "CHMOD_DEVNULL"]) expect(out).not.toContain(bad);
    for (const good of ["no-userns", "no-mount", "no-core", "no-chmod", "devnull-ok"]) expect(out).toContain(good);
    expect(out).not.toMatch(/ \d+\.\d{3} (home\/tbuild-rootless|work|root-store)$/m);
  });

  it("contains an emulated RUN step (arm64 under qemu-user-static) the same way", () => {
    execFileSync("bash", [path.join(repoRoot, "scripts/setup-emulation.sh"), "aarch64"], { stdio: "pipe" });
    execFileSync("bash", [path.join(repoRoot, "fixtures/base/busybox-rootfs.sh"), `${work}/busybox-arm64.tar`, "arm64"], { stdio: "ignore" });
    chmodSync(`${work}/busybox-arm64.tar`, 0o644);
    const probe = readFileSync(`${work}/ctx/probe.Dockerfile`, "utf8").replace("FROM busybox", "FROM busybox-arm64:1").replace("; id -u", "; id -u; uname -m");
    writeFileSync(`${work}/ctx/arm64.Dockerfile`, probe);
    chownSync(`${work}/ctx/arm64.Dockerfile`, who.uid, who.gid);
    const imp = run(["import", "--platform", "linux/arm64", `${work}/busybox-arm64.tar`, "busybox-arm64:1"]);
    expect(imp.code, imp.stderr).toBe(0);
    const r = run(["build", "--progress", "plain", "--no-cache", "--platform", "linux/arm64", "-f", "ctx/arm64.Dockerfile", "ctx"]);
    expect(r.code, r.stderr).toBe(0);
    const out = r.stderr.split("\n").filter((l) => /^#\d+ \d+\.\d{3} /.test(l)).join("\n");
    expect(out).toMatch(/ aarch64$/m);
    expect(out).toMatch(/Seccomp:\s+2/);
    expect(out).toMatch(/CapBnd:\s+00000000a80425fb/);
    for (const bad of ["NESTED_USERNS", "MOUNTED", "CORE", "CHMOD_DEVNULL"]) expect(out).not.toContain(bad);
    for (const good of ["no-userns", "no-mount", "no-core", "no-chmod", "devnull-ok"]) expect(out).toContain(good);
  });

  it("shows the escape probe what BuildKit's sandbox shows, less mknod (refused in a user namespace)", () => {
    // Same findings as test/sandbox-parity.test.ts; in a user namespace mknod is refused outright.
    const ctx = `${work}/parity`;
    mkdirSync(ctx);
    copyFileSync(path.join(repoRoot, "test/differential/sandbox/Dockerfile"), `${ctx}/Dockerfile`);
    copyFileSync(execFileSync("sh", ["-c", "command -v busybox"]).toString().trim(), `${ctx}/busybox`);
    execFileSync("gcc", ["-static", "-O1", "-o", `${ctx}/probe`, path.join(repoRoot, "test/support/probes/escape-probe.c")]);
    for (const f of ["", "/Dockerfile", "/busybox", "/probe"]) chownSync(`${ctx}${f}`, who.uid, who.gid);
    const r = run(["build", "--progress", "plain", "--no-cache", "parity"]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.split("\n").flatMap((l) => { const m = /^#\d+ \d+\.\d{3} (.*)$/.exec(l); return m ? [m[1]!] : []; });
    const seen = lines.filter((l) => !/^(root|via-proc1|fd\d+|marker)=/.test(l)).join("\n") + "\n";
    // What the golden leaves out because it names this run: only stdio is open, and the
    // escaped chroot and /proc/1/root/.. land in the step's own rootfs.
    expect(lines.filter((l) => /^fd\d+=/.test(l)).map((l) => l.slice(0, l.indexOf("=")))).toEqual(["fd0", "fd1", "fd2"]);
    for (const tag of ["root", "via-proc1"]) {
      const names = lines.filter((l) => l.startsWith(`${tag}=`)).map((l) => l.slice(tag.length + 1));
      expect(names, tag).toContain("probe");
      for (const host of ["home", "work", "var", "usr", "run"]) expect(names, tag).not.toContain(host);
    }
    const expected = readFileSync(path.join(repoRoot, "test/differential/golden/sandbox-probe.txt"), "utf8")
      .replace(/^mknod (\S+)=ok$/gm, "mknod $1=Operation not permitted")
      .replace(/^open \/(tmp\/kmsg|dev\/kmsg2|dev\/shm\/mem)=.*\n/gm, "")
      // The host's root owns /proc/sys and is not mapped: permission fails before the read-only mount does.
      .replace(/^core_pattern=Read-only file system$/gm, "core_pattern=Permission denied");
    expect(seen).toBe(expected);
  });

  it("leaves no process of a step behind", () => {
    const mark = String(7_100_000 + Math.floor(Math.random() * 1e5));
    writeFileSync(`${work}/ctx/daemon.Dockerfile`, `FROM busybox\nRUN (setsid sleep ${mark} </dev/null >/dev/null 2>&1 &); echo started\n`);
    chownSync(`${work}/ctx/daemon.Dockerfile`, who.uid, who.gid);
    const r = run(["build", "--no-cache", "-f", "ctx/daemon.Dockerfile", "ctx"]);
    expect(r.code, r.stderr).toBe(0);
    expect(execFileSync("ps", ["-eo", "args"]).toString()).not.toContain(`sleep ${mark}`);
  });

  it("runs containers with --network none (foreground and detached); bridge networks and exec are refused with the reason", () => {
    expect(run(["import", "--change", 'CMD ["sh"]', "busybox.tar", "rl-run:1"]).code).toBe(0);
    const fg = run(["run", "--rm", "--network", "none", "rl-run:1", "sh", "-c", "id -u; echo ok"]);
    expect(fg.stdout).toBe("0\nok\n");
    const bridge = run(["run", "--rm", "rl-run:1", "true"]);
    expect(bridge.code).toBe(1);
    expect(bridge.stderr).toMatch(/needs root: rootless tbuild cannot make network namespaces/);
    const id = run(["run", "-d", "--name", "rl", "--network", "none", "rl-run:1", "sh", "-c", 'trap "exit 0" TERM; while true; do sleep 0.1; done']).stdout.trim();
    expect(run(["ps", "-q"]).stdout.trim()).toBe(id.slice(0, 12));
    const ex = run(["exec", "rl", "true"]);
    expect(ex.code).toBe(1);
    expect(ex.stderr).toMatch(/runs in another user namespace/);
    expect(run(["stop", "rl"]).stdout).toBe("rl\n");
    expect(run(["rm", "rl"]).stdout).toBe("rl\n");
    expect(run(["ps", "-aq"]).stdout).toBe("");
  });

  it("root with --userns auto runs RUN as an unprivileged host uid and builds the same layers", () => {
    // Root's own range, as `usermod --add-subuids` would give it.
    const hasRoot = (f: string) => readFileSync(f, "utf8").split("\n").some((l) => l.startsWith("root:"));
    if (!hasRoot("/etc/subuid") || !hasRoot("/etc/subgid")) execFileSync("usermod", ["--add-subuids", "400000-465535", "--add-subgids", "400000-465535", "root"]);
    const start = Number(readFileSync("/etc/subuid", "utf8").split("\n").find((l) => l.startsWith("root:"))!.split(":")[1]);
    const env = { TBUILD_ROOT: `${work}/userns-store`, TBUILD_RUNTIME_DIR: `${work}/userns-run` };
    const imp = run(["--userns", "auto", "import", `${work}/busybox.tar`, "busybox:latest"], { asRoot: true, env });
    expect(imp.code, imp.stderr).toBe(0);
    expect(statSync(`${work}/userns-store`).uid).toBe(start);
    const probe = run(["--userns", "auto", "build", "--progress", "plain", "--no-cache", "-f", "ctx/probe.Dockerfile", "ctx"], { asRoot: true, env });
    expect(probe.code, probe.stderr).toBe(0);
    const out = probe.stderr.split("\n").filter((l) => /^#\d+ \d+\.\d{3} /.test(l)).join("\n");
    expect(out).toMatch(/Seccomp:\s+2/);
    for (const good of ["no-userns", "no-mount", "no-core", "no-chmod", "devnull-ok"]) expect(out).toContain(good);
    const dest = `${work}/out/userns.tar`;
    const b = run(["--userns", "auto", "build", "--no-cache", "--build-arg", "SOURCE_DATE_EPOCH=1700000000", "-o", `type=oci,dest=${dest}`, "ctx"], { asRoot: true, env });
    expect(b.code, b.stderr).toBe(0);
    expect(diffIds(dest)).toEqual(diffIds(`${work}/out/root.tar`));
    // What the step made as uid 1000 is the host's start + 1000: nothing of it is the host's root.
    const owners = execFileSync("find", [`${work}/userns-store`, "-path", "*/fs/data", "-printf", "%U\n"]).toString().split("\n").filter(Boolean);
    expect(owners).toContain(String(start + 1000));
    // A host-mode store is never taken over.
    const refused = run(["--userns", "auto", "images"], { asRoot: true, env: { TBUILD_ROOT: `${work}/root-store`, TBUILD_RUNTIME_DIR: `${work}/userns-run` } });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/does not belong to the user namespace of --userns auto/);
  });

  it("answers an output it may not write with a clean error", () => {
    mkdirSync(`${work}/readonly`, { mode: 0o555 });
    for (const o of ["type=oci,dest=readonly/x.tar", "type=tar,dest=readonly/x.tar"]) {
      const r = run(["build", "-o", o, "ctx"]);
      expect(r.code, o).toBe(1);
      expect(r.stderr).toMatch(/EACCES|permission denied/i);
      expect(r.stderr).not.toMatch(/\n\s+at |Emitted 'error' event/);
    }
  });

  it("says what is missing for a user without subordinate ids", () => {
    const name = "tbuild-nosubid";
    if (spawnSync("id", ["-u", name]).status !== 0) execFileSync("useradd", ["--no-create-home", "--shell", "/bin/sh", name]);
    // useradd gives new users a range on Debian: take it away again.
    for (const f of ["/etc/subuid", "/etc/subgid"]) writeFileSync(f, readFileSync(f, "utf8").split("\n").filter((l) => !l.startsWith(`${name}:`)).join("\n"));
    const uid = Number(execFileSync("id", ["-u", name]).toString());
    const r = spawnSync(process.execPath, [`${bundle}/main.js`, "images"], { cwd: work, uid, gid: uid, encoding: "utf8", env: { PATH: "/usr/bin:/bin", HOME: "/nonexistent" } });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/needs subordinate ids for tbuild-nosubid in \/etc\/subuid/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
