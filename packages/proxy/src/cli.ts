#!/usr/bin/env node
// The osad2-proxy binary (package.json "bin"); everything it does lives in cli-main.ts.
import { runProxyCli } from "./cli-main.js";

runProxyCli();
