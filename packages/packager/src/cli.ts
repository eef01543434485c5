#!/usr/bin/env node
// The osad2-packager command: parse, run, exit with the code. Everything else lives in ./cli/.
import { runCli } from "@osad2/service-kit";
import { main } from "./cli/run.js";

void runCli((argv) => main(argv, { stdout: process.stdout, stderr: process.stderr }), {
  program: "osad2-packager",
});
