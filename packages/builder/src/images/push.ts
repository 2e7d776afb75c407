// Pushes an exportable image to a registry.
import type { ExportableImage } from "../export/archives.js";

export interface PushOptions {
  insecure?: boolean;
  insecureRegistries?: string[];
  signal?: AbortSignal;
}

export async function pushImage(_img: ExportableImage, name: string, _opts: PushOptions): Promise<void> {
  throw new Error(`cannot push ${name}: the registry client is not available in this build`);
}
