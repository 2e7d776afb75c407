// Build args nothing in the build declares, as Docker warns about them: a typo in
// `--build-arg VERSOIN=2` otherwise passes silently and the image keeps the default.
import { BUILTIN_ARGS, PLATFORM_ARGS, PROXY_ARGS, type DockerfileIR } from "@tbuild/parser";

/** Names of `buildArgs` that no global ARG and no ARG of the stages built declares. */
export function unusedBuildArgs(ir: DockerfileIR, stages: readonly number[], buildArgs: Iterable<string>): string[] {
  const consumed = new Set<string>([...PROXY_ARGS, ...PLATFORM_ARGS, ...BUILTIN_ARGS]);
  for (const a of ir.globalArgs) for (const d of a.args) consumed.add(d.name);
  for (const i of stages) {
    for (const inst of ir.stages[i]?.instructions ?? []) {
      if (inst.kind === "arg") for (const d of inst.args) consumed.add(d.name);
    }
  }
  // BUILDKIT_* configure the frontend; they are never declared.
  return [...buildArgs].filter((name) => !consumed.has(name) && !name.startsWith("BUILDKIT_")).sort();
}

/** Docker's wording: "[Warning] One or more build-args [A B] were not consumed". */
export function unusedBuildArgsMessage(names: readonly string[]): string {
  return `One or more build-args [${names.join(" ")}] were not consumed`;
}
