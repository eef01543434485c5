import { defineConfig } from "tsup";

export default defineConfig({
  // cli-docs: build-time only, the program and sections of osad2-proxy(8) (service-kit scripts/write-cli-docs.mjs).
  entry: { index: "src/index.ts", cli: "src/cli.ts", "cli-docs": "src/cli-docs.ts" },
  format: ["esm"],
  dts: { entry: "src/index.ts" },
  sourcemap: true,
  clean: true,
  target: "node20",
  // The unit and the config template ship inside dist/ (the tarball holds only dist/,
  // README.md and package.json); osad2-packager copies them from there into its RPMs.
  onSuccess:
    "mkdir -p dist/systemd dist/config && cp systemd/osad2-proxy.service dist/systemd/ && cp config/osad2-proxy.conf dist/config/",
});
