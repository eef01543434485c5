import { defineConfig } from "tsup";

export default defineConfig({
  // The raw bench's server and clients run as their own processes (dist/raw-*.js).
  entry: {
    main: "src/main.ts",
    "raw-server": "src/raw/server-main.ts",
    "raw-clients": "src/raw/clients-main.ts",
  },
  format: ["esm"],
  sourcemap: true,
  clean: true,
  target: "node20",
});
