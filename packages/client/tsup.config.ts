import { defineConfig } from "tsup";

export default defineConfig({
  // cli-docs: build-time only, the program and sections of osad2-client(8) (service-kit scripts/write-cli-docs.mjs).
  entry: {
    index: "src/index.ts",
    cli: "src/cli.ts",
    "cli-docs": "src/cli-docs.ts",
    // The service's registration helper process (registration-subprocess.ts).
    "register-child": "src/register-child.ts",
  },
  format: ["esm"],
  dts: { entry: "src/index.ts" },
  sourcemap: true,
  clean: true,
  target: "node20",
  // The unit, the config template and the clientCaps.d file ship inside dist/ (the tarball holds
  // only dist/, README.md and package.json); osad2-packager copies them from there into its RPMs.
  // clientCaps.d/osad2 declares osad.ping and osad.rhn_check to rhn_check, as classic osad's
  // clientCaps.d/osad does: Spacewalk's web UI shows "OSA Status" and "Ping System" only then.
  onSuccess:
    "mkdir -p dist/systemd dist/config dist/clientCaps.d && cp systemd/osad2-client.service dist/systemd/ && cp config/osad_client.cfg dist/config/ && cp clientCaps.d/osad2 dist/clientCaps.d/",
});
