// In-process builds for the hostile suite: a build that may fail, with everything it said
// (events, error) kept as text so a test can check that a secret or canary never shows up.
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { build, type BuildEvent, type BuildOptions, type BuildResult } from "@tbuild/builder";
import type { BuildEnv } from "./build-env.js";

export interface Attempt {
  result?: BuildResult;
  error?: Error & { code?: string };
  events: BuildEvent[];
  /** Every event and the error (message and stack) as one string. */
  said: string;
}

/** Runs a build on the env's store (executor and snapshotter as `opts` say); never rejects. */
export async function attempt(env: BuildEnv, opts: Omit<BuildOptions, "root">): Promise<Attempt> {
  const events: BuildEvent[] = [];
  let result: BuildResult | undefined;
  let error: (Error & { code?: string }) | undefined;
  try {
    const h = build({ ...opts, root: env.root });
    for await (const e of h) events.push(e);
    result = await h.result;
  } catch (e) {
    error = e as Error;
  }
  const said = [...events.map((e) => JSON.stringify(e)), error ? `${error.message}\n${error.stack ?? ""}` : ""].join("\n");
  return { result, error, events, said };
}

/** Throws unless the attempt failed with a message matching `pattern`. */
export function expectFailure(a: Attempt, pattern: RegExp, what: string): void {
  if (a.error === undefined) throw new Error(`${what}: the build succeeded, expected an error matching ${pattern}`);
  if (!pattern.test(a.error.message)) throw new Error(`${what}: error ${JSON.stringify(a.error.message)} does not match ${pattern}`);
}

/** Throws unless the attempt succeeded. */
export function expectSuccess(a: Attempt, what: string): BuildResult {
  if (a.error !== undefined || a.result === undefined) throw new Error(`${what}: the build failed: ${a.error?.message}`);
  return a.result;
}

export type TreeSpec = Record<string, string | { symlink: string } | { dir: true }>;

/** Creates files, directories and symlinks (path → content | {symlink} | {dir}) under `dir`. */
export function writeTree(dir: string, spec: TreeSpec): string {
  mkdirSync(dir, { recursive: true });
  for (const [p, v] of Object.entries(spec)) {
    const full = path.join(dir, p);
    mkdirSync(path.dirname(full), { recursive: true });
    if (typeof v === "string") writeFileSync(full, v);
    else if ("symlink" in v) symlinkSync(v.symlink, full);
    else mkdirSync(full, { recursive: true });
  }
  return dir;
}
