// What osad2-proxy(8) and its bash completion are made of: the program the binary parses with
// (buildProgram), and the sections its definition does not hold. Written at build time by
// service-kit's scripts/write-cli-docs.mjs into dist/man and dist/completions.
import type { CliDocs } from "@osad2/service-kit";
import packageJson from "../package.json" with { type: "json" };
import { buildProgram } from "./cli-args.js";
import { CONFIG_SECTION, DEFAULT_CONFIG_PATH } from "./config.js";

export const cliDocs: CliDocs = {
  program: () =>
    buildProgram(packageJson.version, () => {
      // Docs only: no command runs.
    }),
  section: 8,
  notes: [
    `Every key of the [${CONFIG_SECTION}] section of ${DEFAULT_CONFIG_PATH} is also a --kebab-case option of run; an option given on the command line wins over the file.`,
    "The proxy keeps nothing on disk: client keys are checked against the server's allow-list over the link (decisions cached for a short while; a revocation reaches the proxy at once).",
  ],
  files: [
    [
      DEFAULT_CONFIG_PATH,
      `configuration ([${CONFIG_SECTION}]); every key is also a --kebab-case option`,
    ],
    [
      "/etc/osad2/proxy-certs/",
      "private_keys/proxy.key_secret (0600), public_keys/proxy.key, public_keys/upstream.key (the parent's public key)",
    ],
  ],
  exitStatus: [
    ["0", "stopped cleanly (SIGTERM, SIGINT)"],
    ["1", "failed at run time (a port could not be bound)"],
    ["2", "the command line, the configuration or the key files are wrong"],
  ],
  seeAlso: ["osad2-server(8)", "osad2-client(8)", "osad2-packager(1)", "systemctl(1)"],
};
