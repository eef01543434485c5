// What osad2-server(8) and its bash completion are made of: the program the binary parses with
// (buildProgram), and the sections its definition does not hold. Written at build time by
// service-kit's scripts/write-cli-docs.mjs into dist/man and dist/completions.
import type { CliDocs } from "@osad2/service-kit";
import packageJson from "../../package.json" with { type: "json" };
import { DEFAULT_CONFIG_PATH } from "../config/schema.js";
import { buildProgram } from "./args.js";

export const cliDocs: CliDocs = {
  program: () =>
    buildProgram(packageJson.version, () => {
      // Docs only: no command runs.
    }),
  section: 8,
  notes: [
    `Every key of ${DEFAULT_CONFIG_PATH} is also a --kebab-case option of each command; an option given on the command line wins over the file.`,
    "Options without a command are run's: osad2-server -c FILE -d, as the init scripts of spacewalk-osad2 call it.",
  ],
  files: [
    [DEFAULT_CONFIG_PATH, "configuration ([main]); every key is also a --kebab-case option"],
    [
      "/etc/rhn/osad2-server/certs/",
      "private_keys/server.key_secret, the allow-list public_keys/*.key, revoked/",
    ],
    [
      "/var/lib/osad2/",
      "the standalone SQLite database (database = sqlite:/var/lib/osad2/osad2.db)",
    ],
  ],
  exitStatus: [
    ["0", "done; for status: running and healthy"],
    ["1", "failed at run time; for status: running but unhealthy"],
    ["2", "the command line or the configuration is wrong"],
    ["3", "status only: not running"],
  ],
  seeAlso: ["osad2-packager(1)", "osad2-client(8)", "systemctl(1)"],
};
