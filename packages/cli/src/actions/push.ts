// `tbuild push`: waits for the image store API of @tbuild/cache (being written now).

import type { Command } from "commander";
import { CommandError } from "../errors.js";

export default async function pushAction(_cmd: Command): Promise<number> {
  throw new CommandError("tbuild push is not available in this build yet: it needs the @tbuild/cache image store API");
}
