// `--progress rawjson`: one JSON BuildEvent per line, for tools. With several builds
// (compose) each event carries a `source` field naming its service.

import type { BuildEvent } from "../builder-api.js";
import type { ProgressRenderer, ProgressStream } from "./renderer.js";

export class RawJsonRenderer implements ProgressRenderer {
  constructor(private readonly out: ProgressStream) {}

  event(ev: BuildEvent, source?: string): void {
    this.out.write(`${JSON.stringify(source === undefined ? ev : { ...ev, source })}\n`);
  }

  buildFinished(): void {}

  close(): void {}
}
