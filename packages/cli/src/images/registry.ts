// A registry client configured from the command line.

import type { RegistryClient } from "@tbuild/oci";

/** A client that treats `insecureHosts` as Docker "insecure registries" (loopback always is). */
export async function registryClient(insecureHosts: readonly string[] = []): Promise<RegistryClient> {
  const { RegistryClient } = await import("@tbuild/oci");
  const hosts = Object.fromEntries(insecureHosts.map((h) => [h, { insecure: true }]));
  return new RegistryClient({ hosts, userAgent: "tbuild" });
}
