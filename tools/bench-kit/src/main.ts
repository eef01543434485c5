#!/usr/bin/env node
// What tools/bench runs: `node tools/bench-kit/dist/main.js <command> [flags]`.
import { runBench } from "./cli.js";

process.exit(await runBench(process.argv.slice(2)));
