// Maps positions of the esbuild bundle (packages/cli/bundle) back to the original files, so
// CPU profiles of the bundle still read by package. Decoding is source-map-js's.

import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { SourceMapConsumer, type RawSourceMap } from "source-map-js";

/** The original file of a generated position, resolved to an absolute path. */
export class SourceMap {
  readonly #consumer: SourceMapConsumer;

  constructor(json: RawSourceMap, mapFile: string) {
    // source-map-js resolves sources against sourceRoot; give it the map's own URL as the root.
    this.#consumer = new SourceMapConsumer(json, new URL(".", `file://${mapFile}`).href);
  }

  /** Original source path of a 0-based generated line/column, if mapped. */
  sourceAt(line: number, column: number): string | undefined {
    const pos = this.#consumer.originalPositionFor({ line: line + 1, column, bias: SourceMapConsumer.GREATEST_LOWER_BOUND });
    if (!pos.source) return undefined;
    return pos.source.startsWith("file://") ? fileURLToPath(pos.source) : pos.source;
  }
}

const cache = new Map<string, SourceMap | null>();

/** The source map of a script URL (file://… with a `.map` next to it), cached. */
export function sourceMapFor(url: string): SourceMap | undefined {
  if (!url.startsWith("file://")) return undefined;
  let hit = cache.get(url);
  if (hit === undefined) {
    hit = null;
    const map = `${fileURLToPath(url)}.map`;
    if (existsSync(map)) {
      try {
        hit = new SourceMap(JSON.parse(readFileSync(map, "utf8")) as RawSourceMap, map);
      } catch {
        hit = null;
      }
    }
    cache.set(url, hit);
  }
  return hit ?? undefined;
}
