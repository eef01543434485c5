// What osad2-client(8) and its bash completion are made of: the program the binary parses with
// (buildProgram), and the sections its definition does not hold. Written at build time by
// service-kit's scripts/write-cli-docs.mjs into dist/man and dist/completions.
import type { CliDocs } from "@osad2/service-kit";
import { buildProgram } from "./cli-args.js";
import { DEFAULT_CONFIG_PATH } from "./config-schema.js";

export const cliDocs: CliDocs = {
  program: () =>
    buildProgram(() => {
      // Docs only: no command runs.
    }),
  section: 8,
  notes: [
    `Every key of the [osad] section of ${DEFAULT_CONFIG_PATH} is also a --kebab-case option of each command; an option given on the command line wins over the file.`,
    "Options without a command are run's: osad2-client -c FILE -d, as the init scripts of spacewalk-osad2 call it.",
  ],
  files: [
    [DEFAULT_CONFIG_PATH, "configuration ([osad]); every key is also a --kebab-case option"],
    [
      "/etc/rhn/osad2-client/certs/",
      "the system's CURVE key pair (client.key_secret) and the server's public key (server.key)",
    ],
    [
      "/etc/sysconfig/rhn/clientCaps.d/osad2",
      "the osad capabilities rhn_check reports to Spacewalk",
    ],
  ],
  exitStatus: [
    ["0", "done; for status: connected"],
    ["1", "failed at run time; for status: running but not connected"],
    ["2", "the command line or the configuration is wrong"],
    ["3", "status only: not running"],
    ["4", "status only: the state file cannot be read"],
  ],
  seeAlso: ["rhn_check(8)", "osad2-server(8)", "systemctl(1)"],
};
