import { defineConfig } from "tsup";

export default defineConfig({
  // bundling.js: the licence, man page, completion and zeromq code serverrpm runs, for scripts/bundle-client.mjs.
  entry: {
    index: "src/index.ts",
    cli: "src/cli.ts",
    bundling: "src/bundling/index.ts",
    // Build-time only: the program and sections of osad2-packager(1) (service-kit scripts/write-cli-docs.mjs).
    "cli-docs": "src/cli/docs.ts",
  },
  format: ["esm"],
  dts: { entry: "src/index.ts" },
  sourcemap: true,
  clean: true,
  target: "node20",
});
