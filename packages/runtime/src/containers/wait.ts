// Waiting for a container to reach a state, for compose's depends_on conditions.
import { RuntimeError } from "../errors.js";
import { ContainerStore, type Container } from "./container-store.js";

export type WaitCondition = "service_started" | "service_healthy" | "service_completed_successfully";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves when `c` meets `condition`; rejects when it cannot any more (exited, unhealthy, failed). */
export async function waitForCondition(root: string, c: Container, condition: WaitCondition, signal?: AbortSignal): Promise<void> {
  const containers = new ContainerStore(root);
  const name = c.config.name;
  if (condition === "service_healthy" && !c.config.healthcheck) throw new RuntimeError(`container ${name} has no healthcheck, so it cannot become healthy`);
  for (;;) {
    if (signal?.aborted) throw new RuntimeError("interrupted");
    const s = await containers.refresh(c);
    if (condition === "service_started") {
      if (s.status !== "created") return;
    } else if (condition === "service_healthy") {
      if (s.status === "running" && s.health?.status === "healthy") return;
      if (s.health?.status === "unhealthy") throw new RuntimeError(`dependency failed to start: container ${name} is unhealthy`);
      if (s.status === "exited") throw new RuntimeError(`dependency failed to start: container ${name} exited (${s.exitCode}) before it became healthy`);
    } else if (s.status === "exited") {
      if (s.exitCode === 0) return;
      throw new RuntimeError(`service ${name} didn't complete successfully: exit ${s.exitCode}`);
    }
    await sleep(200);
  }
}
