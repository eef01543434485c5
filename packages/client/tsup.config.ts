import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts", "src/cli.ts"],
  format: ["esm"],
  dts: { entry: "src/index.ts" },
  sourcemap: true,
  clean: true,
  target: "node20",
  // The unit and the config template ship inside dist/ (the tarball holds only dist/, README.md
  // and package.json); osad2-packager copies both from there into its RPMs.
  onSuccess:
    "mkdir -p dist/systemd dist/config && cp systemd/osad2-client.service dist/systemd/ && cp config/osad_client.cfg dist/config/",
});
