import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Whole processes start and stop here; files run one at a time to keep two cores honest.
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 120_000,
    reporters: ["default", "json"],
    outputFile: { json: "dist-test/results.json" },
  },
});
