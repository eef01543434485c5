import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Above waitFor's 30 s default, so a wait that never ends fails with what it waited for
    // (proxy-link's revoked-proxy test once failed in CI as a bare "timed out in 30000ms").
    testTimeout: 45_000,
    hookTimeout: 30_000,
    reporters: ["default", "json"],
    outputFile: { json: "dist-test/results.json" },
  },
});
