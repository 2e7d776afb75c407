// How tags are shown in "naming to …" lines.

/**
 * Normalises image names for display the way docker does (`app` →
 * `docker.io/library/app:latest`).
 */
export async function displayTags(tags: readonly string[]): Promise<string[]> {
  // TODO(oci): use parseReference from @tbuild/oci once it lands.
  return tags.map((t) => t);
}
