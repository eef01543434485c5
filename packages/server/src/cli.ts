#!/usr/bin/env node
// The osad2-server binary (package.json "bin"); everything it does lives in cli/.
import { main } from "./cli/main.js";

void main(process.argv.slice(2));
