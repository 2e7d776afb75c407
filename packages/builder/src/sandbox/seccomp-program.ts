// The compiled seccomp program of the default executor. tbuild-enter compiles the rules
// (seccomp-profile.ts) with libseccomp once; the result is kept in the runtime dir under
// a name that digests the rules and the helper binary, so later processes (every tbuild
// invocation) and every step only read it. Compiling per step cost ~5 ms.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { SandboxError } from "./errors.js";
import { runtimeRoot } from "./runtime-dir.js";
import { enterSeccompRules } from "./seccomp-profile.js";

const programs = new Map<string, string>();

/** The path of the compiled filter for a step holding `caps`. */
export function seccompProgram(helper: string, caps: readonly string[]): string {
  const rules = enterSeccompRules(caps);
  const st = statSync(helper);
  const key = createHash("sha256").update(rules).update(`\0${st.size}\0${st.mtimeMs}\0${st.ino}`).digest("hex").slice(0, 32);
  const hit = programs.get(key);
  if (hit) return hit;
  const out = `${runtimeRoot()}/seccomp-${key}.bpf`;
  if (!existsSync(out)) {
    const tmp = `${out}.${process.pid}.tmp`;
    const rulesFile = `${tmp}.rules`;
    try {
      writeFileSync(rulesFile, rules, { mode: 0o600 });
      execFileSync(helper, ["--compile-seccomp", rulesFile, tmp], { stdio: ["ignore", "ignore", "pipe"] });
      renameSync(tmp, out);
    } catch (e) {
      const stderr = (e as { stderr?: Buffer }).stderr?.toString().trim();
      throw new SandboxError("SETUP", `the seccomp filter could not be compiled: ${stderr || (e as Error).message}`);
    } finally {
      rmSync(rulesFile, { force: true });
      rmSync(tmp, { force: true });
    }
  }
  programs.set(key, out);
  return out;
}
