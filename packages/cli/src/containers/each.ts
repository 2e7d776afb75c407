// Docker's habit for commands over several containers: each is handled in turn and its
// reference printed when done; failures are printed as they come and make the exit status 1.

import type { Container, ContainerStore } from "@tbuild/runtime";

export async function eachContainer(containers: ContainerStore, refs: string[], act: (c: Container) => Promise<void>): Promise<number> {
  let status = 0;
  for (const ref of refs) {
    try {
      await act(await containers.find(ref));
      process.stdout.write(`${ref}\n`);
    } catch (e) {
      if (!(e instanceof Error) || e.name !== "RuntimeError") throw e;
      process.stderr.write(`ERROR: ${e.message}\n`);
      status = 1;
    }
  }
  return status;
}
