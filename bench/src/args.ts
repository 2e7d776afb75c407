// Command-line options of the harness (`npm run bench -- [WORKLOAD…] [options]`).

import { parseArgs } from "node:util";
import { WORKLOAD_NAMES, type WorkloadName } from "./workload-defs.js";

export interface BenchOptions {
  workloads: WorkloadName[];
  runs: number;
  peers: boolean;
  /** tbuild's remote backend (--builder docker://) against BuildKit's client on the same dockerd. */
  remote: boolean;
  maxLoad: number;
  maxWaitS: number;
  regenerate: boolean;
  profile: boolean;
  strace: boolean;
  verifyWorkloads: boolean;
  /** The multi-platform figures (bench/src/multiplatform.ts): the positional `multiplatform`, or no positional at all. */
  multiplatform: boolean;
}

export const USAGE = `usage: npm run bench -- [WORKLOAD…] [options]
workloads: ${WORKLOAD_NAMES.join(", ")}, multiplatform (default: all)
  --runs N           runs per workload and engine (default 3; the table shows medians)
  --peers            also run buildah and BuildKit (dockerd 20.10), interleaved with tbuild
  --remote           tbuild --builder docker:// against docker build on the same dockerd (no local tbuild, no buildah)
  --max-load L       wait before each sequence until the 1-min load average is below L (default 1.5)
  --max-wait S       …but at most S seconds (default 60); --max-wait 0 never waits
  --regen            regenerate the workload contexts even if kept ones look intact
  --profile          tbuild only, one run: node --cpu-prof each command, summarise where time goes
  --strace           tbuild only, one run: strace -f -c each command, summarise syscalls
  --verify-workloads compare our generated workloads with ../shared/tools/peers/make-workloads.sh output
scratch data: /dev/shm/tbuild-bench (env TBUILD_BENCH_DIR); raw runs: results.tsv there`;

/** Parses argv; throws an Error with a usage message on bad input. */
export function parseBenchArgs(argv: string[]): BenchOptions | "help" {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      runs: { type: "string" },
      peers: { type: "boolean", default: false },
      remote: { type: "boolean", default: false },
      "max-load": { type: "string" },
      "max-wait": { type: "string" },
      regen: { type: "boolean", default: false },
      profile: { type: "boolean", default: false },
      strace: { type: "boolean", default: false },
      "verify-workloads": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) return "help";
  const num = (name: string, v: string | undefined, dflt: number, min: number): number => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number ≥ ${min}, got "${v}"`);
    return n;
  };
  const workloads: WorkloadName[] = [];
  const multiplatform = positionals.length === 0 || positionals.includes("multiplatform");
  for (const p of positionals.filter((x) => x !== "multiplatform")) {
    if (!(WORKLOAD_NAMES as readonly string[]).includes(p)) throw new Error(`unknown workload "${p}" (known: ${WORKLOAD_NAMES.join(", ")})`);
    if (!workloads.includes(p as WorkloadName)) workloads.push(p as WorkloadName);
  }
  return {
    workloads: workloads.length || positionals.length ? workloads : [...WORKLOAD_NAMES],
    runs: Math.floor(num("runs", values.runs, 3, 1)),
    peers: values.peers ?? false,
    remote: values.remote ?? false,
    maxLoad: num("max-load", values["max-load"], 1.5, 0),
    maxWaitS: num("max-wait", values["max-wait"], 60, 0),
    regenerate: values.regen ?? false,
    profile: values.profile ?? false,
    strace: values.strace ?? false,
    verifyWorkloads: values["verify-workloads"] ?? false,
    multiplatform,
  };
}
