// Image names as the store keys them: fully qualified (`docker.io/library/busybox:latest`),
// so that `busybox`, `busybox:latest` and `docker.io/library/busybox` are one image.
import { parseReference } from "@tbuild/oci";

export function normalizeImageName(ref: string): string {
  return parseReference(ref).toString();
}
