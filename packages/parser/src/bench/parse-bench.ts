// `npm run bench:parse`: parse throughput (parseDockerfile + toStages) on a
// generated 5 MB Dockerfile, and how the time grows for a 10× larger one.

import { toStages } from "../ir/stages.js";
import { parseDockerfile } from "../lexer/parser.js";
import { generateDockerfile } from "./generate.js";

const MB = 1024 * 1024;

/** Wall-clock and CPU milliseconds of one parse + toStages. */
function timeParse(src: string): { wall: number; cpu: number } {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const ir = toStages(parseDockerfile(src));
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  const c = process.cpuUsage(c0);
  if (ir.stages.length === 0) throw new Error("benchmark input produced no stages");
  return { wall, cpu: (c.user + c.system) / 1000 };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function main(): void {
  const small = generateDockerfile(5 * MB);
  const large = generateDockerfile(50 * MB);
  // Warm up the JIT on a smaller input first.
  for (let i = 0; i < 3; i++) timeParse(generateDockerfile(MB / 2));
  // The machine may be shared: take the best small run, and compare each large
  // run with small runs made just before it, so both see similar load.
  let bestSmall = Infinity;
  const ratios: number[] = [];
  const cpuRatios: number[] = [];
  let bestLarge = Infinity;
  for (let round = 0; round < 3; round++) {
    let s = { wall: Infinity, cpu: Infinity };
    for (let i = 0; i < 3; i++) {
      const t = timeParse(small);
      s = { wall: Math.min(s.wall, t.wall), cpu: Math.min(s.cpu, t.cpu) };
    }
    bestSmall = Math.min(bestSmall, s.wall);
    const l = timeParse(large);
    bestLarge = Math.min(bestLarge, l.wall);
    ratios.push(l.wall / s.wall);
    cpuRatios.push(l.cpu / s.cpu);
  }
  console.log(`input: ${(small.length / MB).toFixed(2)} MB, ${small.split("\n").length} lines, best: ${bestSmall.toFixed(1)} ms`);
  console.log(`parse throughput: ${(small.length / MB / (bestSmall / 1000)).toFixed(1)} MB/s`);
  console.log(`10x input: ${(large.length / MB).toFixed(2)} MB, best: ${bestLarge.toFixed(1)} ms (cpu-time ratio ${median(cpuRatios).toFixed(2)})`);
  console.log(`10x input time ratio: ${median(ratios).toFixed(2)} (linear ≤ 12)`);
}

main();
