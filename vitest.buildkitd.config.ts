// The remote backend against a real buildkitd: `TBUILD_BUILDKITD=unix:///… npm run test:buildkitd`.
// Not part of `vitest run` (vitest.config.ts includes only *.test.ts): CI has no buildkitd.
import { defineConfig } from "vitest/config";
import base from "./vitest.config.js";

export default defineConfig({
  resolve: base.resolve,
  test: {
    include: ["test/buildkitd/**/*.buildkitd.ts"],
    testTimeout: 300_000,
    hookTimeout: 1_200_000,
    pool: "forks",
    fileParallelism: false,
  },
});
