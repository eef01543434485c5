import { assertDetachable, detach, EXIT_OK } from "@osad2/service-kit";
import { withoutDetach, type CliInvocation } from "../args.js";
import { assertStartable } from "../preflight.js";
import { loadCliConfig } from "./load-config.js";

/**
 * `osad2-server -c FILE -d`, as the seed's init scripts call it: checks the configuration here
 * (a bad one exits 2 with its one line on the terminal), starts `run` in the background and
 * exits 0 once that process has written its pidfile. Under systemd the unit runs the server in
 * the foreground instead.
 * @throws {ConfigError} when pidfile or log_file is not set (see assertDetachable).
 */
export async function detachCommand(
  invocation: CliInvocation,
  argv: readonly string[],
): Promise<number> {
  const config = await loadCliConfig(invocation);
  assertDetachable({
    program: "osad2-server",
    configPath: invocation.configPath,
    pidfile: config.pidfile,
    logFile: { key: "log_file", value: config.logFile },
  });
  await assertStartable(config);
  await detach({ program: "osad2-server", pidfile: config.pidfile, argv: withoutDetach(argv) });
  return EXIT_OK;
}
