import { defineConfig } from "tsup";

export default defineConfig({
  entry: {
    index: "src/index.ts",
    cli: "src/cli.ts",
    testing: "src/testing/index.ts",
    // Build-time only: the program and sections of osad2-server(8) (service-kit scripts/write-cli-docs.mjs).
    "cli-docs": "src/cli/docs.ts",
  },
  format: ["esm"],
  dts: { entry: { index: "src/index.ts", testing: "src/testing/index.ts" } },
  sourcemap: true,
  clean: true,
  target: "node20",
  // The unit and the monitoring files (Grafana dashboard, alert rules) ship inside dist/ so
  // the tarball holds only dist/, README.md and package.json.
  onSuccess:
    "mkdir -p dist/systemd && cp systemd/osad2-server.service dist/systemd/ && cp -r monitoring dist/",
});
