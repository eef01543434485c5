// What osad2-packager(1) and its bash completion are made of: the program the binary parses with
// (buildProgram), and the sections its definition does not hold. Written at build time by
// service-kit's scripts/write-cli-docs.mjs into dist/man and dist/completions.
import type { CliDocs } from "@osad2/service-kit";
import { DEFAULT_SERVER_CERTIFICATES_DIR, DEFAULT_SERVER_CONFIG_PATH } from "../options.js";
import { buildProgram } from "./parse.js";

export const cliDocs: CliDocs = {
  program: () =>
    buildProgram(() => {
      // Docs only: no command runs.
    }),
  section: 1,
  files: [
    [
      `${DEFAULT_SERVER_CERTIFICATES_DIR}/`,
      "the server's key pair, the allow-list public_keys/*.key and revoked/",
    ],
    [DEFAULT_SERVER_CONFIG_PATH, "the server configuration createserver writes when it is missing"],
  ],
  exitStatus: [
    ["0", "done"],
    ["1", "failed at run time"],
    ["2", "the command line is wrong"],
  ],
  seeAlso: ["osad2-server(8)", "osad2-client(8)", "rpmbuild(8)"],
};
