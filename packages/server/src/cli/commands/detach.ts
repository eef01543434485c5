import { ConfigError, detach, EXIT_OK } from "@osad2/service-kit";
import { withoutDetach, type CliInvocation } from "../args.js";
import { loadCliConfig } from "./load-config.js";

/**
 * `osad2-server -c FILE -d`, as the seed's init scripts call it: checks the configuration here
 * (a bad one exits 2 with its one line on the terminal), starts `run` in the background and
 * exits 0 once that process has written its pidfile. Under systemd the unit runs the server in
 * the foreground instead.
 * @throws {ConfigError} when pidfile or log_file is not set: an init script finds the daemon
 *   by its pidfile, and a detached server has no terminal to log to.
 */
export async function detachCommand(
  invocation: CliInvocation,
  argv: readonly string[],
): Promise<number> {
  const config = await loadCliConfig(invocation);
  const missing = config.pidfile === "" ? "pidfile" : config.logFile === "" ? "log_file" : "";
  if (missing !== "") {
    throw new ConfigError(
      `-d (detach) needs ${missing} set in ${invocation.configPath}: an init script finds the daemon by its pidfile, and a detached server has no terminal to log to (under systemd, run it without -d: systemctl start osad2-server)`,
      { path: invocation.configPath, key: missing },
    );
  }
  await detach({ program: "osad2-server", pidfile: config.pidfile, argv: withoutDetach(argv) });
  return EXIT_OK;
}
