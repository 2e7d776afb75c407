import { defineConfig } from "vitest/config";
import { fileURLToPath } from "node:url";

// Tests import sibling packages from source so that `vitest` needs no build step;
// the CLI end-to-end tests spawn the built binary (`npm test` runs `tsc -b` first).
const pkg = (name: string) => fileURLToPath(new URL(`./packages/${name}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: {
      "@tbuild/parser": pkg("parser"),
      "@tbuild/oci": pkg("oci"),
      "@tbuild/cache": pkg("cache"),
      "@tbuild/builder": pkg("builder"),
      "@tbuild/llb": pkg("llb"),
      "@tbuild/runtime": pkg("runtime"),
    },
  },
  test: {
    include: ["packages/*/src/**/*.test.ts", "bench/src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
  },
});
