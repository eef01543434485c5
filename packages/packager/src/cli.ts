#!/usr/bin/env node
// The osad2-packager command: parse, run, set the exit code. Everything else lives in ./cli/.
import { main } from "./cli/run.js";

process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
});
