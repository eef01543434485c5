// The registration helper osad2-client run starts for each register_osad call
// (registration-subprocess.ts): options on stdin, the result on stdout, then it exits.
import { describeError } from "@osad2/service-kit";
import { runRegistrationChild } from "./registration-subprocess.js";

runRegistrationChild().then(
  // Exit now: nothing the call left behind (a socket in close) may keep the service waiting.
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`osad2-client registration helper: ${describeError(error)}\n`);
    process.exit(1);
  },
);
