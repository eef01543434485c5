import { defineConfig } from "tsup";

export default defineConfig({
  entry: { index: "src/index.ts", "zeromq/index": "src/zeromq/index.ts" },
  format: ["esm"],
  dts: { entry: { index: "src/index.ts", "zeromq/index": "src/zeromq/index.ts" } },
  sourcemap: true,
  clean: true,
  target: "node20",
  // A peer: the services' own zeromq (one native addon per process).
  external: ["zeromq"],
});
