#!/usr/bin/env node
// The osad2-client binary. It sets V8's flags first, then loads everything else (cli-main.ts)
// with import(): a static import would compile the whole program before the flags apply.
import { setFlagsFromString } from "node:v8";

/**
 * V8 trades speed for memory: no optimising compilers, feedback vectors allocated lazily. The
 * client runs on every managed system and is idle nearly all the time; the little it does
 * (a ping, a checkin, spawning rhn_check) gains nothing from optimised code, and the compilers'
 * code and data are some 10 MiB of its idle RSS (docs/benchmarks.md, idle client). Not in
 * NODE_OPTIONS, which does not accept it; the unit sets what NODE_OPTIONS does accept.
 * --bytecode-old-age=1: bytecode of functions not run since the last full collection is dropped
 * (recompiled if ever needed again): start-up and registration code, ≈ 0.4 MiB of the idle RSS.
 */
const CLIENT_V8_FLAGS = ["--lite-mode", "--bytecode-old-age=1"] as const;

for (const flag of CLIENT_V8_FLAGS) setFlagsFromString(flag);
const { runClientCli } = await import("./cli-main.js");
runClientCli();
