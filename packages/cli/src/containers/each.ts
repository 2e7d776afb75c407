// Docker's habit for commands over several objects (containers, volumes, networks): each is
// handled in turn and its reference printed when done; a runtime failure is printed as it
// comes and makes the exit status 1, the others still run.

import type { Container, ContainerStore } from "@tbuild/runtime";

export async function forEachRef(refs: string[], act: (ref: string) => Promise<boolean | void>): Promise<number> {
  let status = 0;
  for (const ref of refs) {
    try {
      // false: nothing to report (rm -f of a volume that does not exist).
      if ((await act(ref)) !== false) process.stdout.write(`${ref}\n`);
    } catch (e) {
      if (!(e instanceof Error) || e.name !== "RuntimeError") throw e;
      process.stderr.write(`ERROR: ${e.message}\n`);
      status = 1;
    }
  }
  return status;
}

export function eachContainer(containers: ContainerStore, refs: string[], act: (c: Container) => Promise<void>): Promise<number> {
  return forEachRef(refs, async (ref) => act(await containers.find(ref)));
}
