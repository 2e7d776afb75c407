// The five benchmark workloads, defined exactly as ../shared/tools/peers/make-workloads.sh
// defines them: the same Dockerfiles (only the base image's registry port differs), the
// same files, sizes and modes.

import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { generateBigContext } from "./big-context.js";

export const WORKLOAD_NAMES = ["small", "bigcontext", "manylayers", "multistage", "incremental"] as const;
export type WorkloadName = (typeof WORKLOAD_NAMES)[number];

/** The context file the `incremental` workload touches, then changes, between builds. */
export const MUTATE_FILE = "ctx/src/d100/f10000.txt";

/** Whether a workload's context is large and slow to generate (kept between invocations). */
export function isBigContext(name: WorkloadName): boolean {
  return name === "bigcontext" || name === "incremental";
}

/** The Dockerfile text of a workload on a base image reference. */
export function dockerfileOf(name: WorkloadName, base: string): string {
  switch (name) {
    case "small":
      return [
        `FROM ${base}`,
        `ENV APP_HOME=/srv/app GREETING="hello world"`,
        `WORKDIR /srv/app`,
        `COPY hello.txt app.sh ./`,
        `COPY conf/ ./conf/`,
        `RUN echo "$GREETING from $APP_HOME" > built.txt && ls -la . > listing.txt && wc -c built.txt`,
        `CMD ["/srv/app/app.sh"]`,
        ``,
      ].join("\n");
    case "bigcontext":
    case "incremental":
      return [`FROM ${base}`, `WORKDIR /data`, `COPY ctx/ /data/`, `RUN du -s /data && find /data -type f | wc -l`, ``].join("\n");
    case "manylayers": {
      const lines = [`FROM ${base}`];
      for (let i = 1; i <= 40; i++) {
        const n = String(i).padStart(2, "0");
        lines.push(`RUN echo layer-${n} > /layer-${n}.txt`);
      }
      lines.push(`CMD ["ls","/"]`, ``);
      return lines.join("\n");
    }
    case "multistage":
      return [
        `FROM ${base} AS builder-a`,
        `RUN sleep 1 && dd if=/dev/urandom of=/a.bin bs=1M count=8 2>/dev/null && echo a > /a.txt`,
        ``,
        `FROM ${base} AS builder-b`,
        `RUN sleep 1 && dd if=/dev/zero of=/b.bin bs=1M count=8 2>/dev/null && echo b > /b.txt`,
        ``,
        `FROM ${base}`,
        `COPY --from=builder-a /a.bin /a.txt /out/`,
        `COPY --from=builder-b /b.bin /b.txt /out/`,
        `RUN ls -la /out`,
        `CMD ["ls","-la","/out"]`,
        ``,
      ].join("\n");
  }
}

/**
 * Writes a workload's context (everything but the Dockerfile) into `dir`, replacing what
 * was there. Returns a short description for the log.
 */
export function generateContext(name: WorkloadName, dir: string): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  switch (name) {
    case "small": {
      mkdirSync(path.join(dir, "conf"));
      writeFileSync(path.join(dir, "hello.txt"), "hello tbuild\n");
      writeFileSync(path.join(dir, "app.sh"), '#!/bin/sh\necho "app running as $(id -u) in $PWD"\n');
      chmodSync(path.join(dir, "app.sh"), 0o755);
      writeFileSync(path.join(dir, "conf", "app.conf"), "key=value\nmode=bench\n");
      return "3 files";
    }
    case "bigcontext":
    case "incremental": {
      const n = generateBigContext(path.join(dir, "ctx"));
      if (name === "incremental") writeFileSync(path.join(dir, "MUTATE"), `${MUTATE_FILE}\n`);
      return `${n} files`;
    }
    case "manylayers":
    case "multistage":
      return "Dockerfile only";
  }
}
