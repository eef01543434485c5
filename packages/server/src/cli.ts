#!/usr/bin/env node
// The osad2-server binary (package.json "bin"); everything it does lives in cli/. It sets V8's
// flags first, then loads the rest with import(), as the client's binary does.
import { setFlagsFromString } from "node:v8";

/**
 * Old space may grow to 1.25× what a full collection left before the next one; V8's own
 * factor, up to 4× for a mutator as quiet as an idle server's, let 18,000 idle clients' ping
 * rounds pile up garbage: 236 MiB of heap in use at the end of the footprint window instead of
 * 112 MiB, server RSS per client 57.3 KiB instead of 50.5 (docs/benchmarks.md, 2026-12-03).
 * Read at every collection, so it applies when set here, after start-up.
 */
const SERVER_V8_FLAGS = ["--heap-growing-percent=25"] as const;

for (const flag of SERVER_V8_FLAGS) setFlagsFromString(flag);
const { main } = await import("./cli/main.js");
void main(process.argv.slice(2));
