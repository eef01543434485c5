import { ConfigError, detach, EXIT_OK } from "@osad2/service-kit";
import { withoutDetach, type CliArgs } from "../cli-args.js";
import { loadConfig } from "../config.js";

/**
 * `osad2-client -c FILE -d`, as the seed's init scripts call it: checks the configuration here
 * (a bad one exits 2 with its one line on the terminal), starts `run` in the background and
 * exits 0 once that process is up and has written its pidfile. Under systemd the unit runs the
 * client in the foreground instead.
 * @throws {ConfigError} when pidfile or logfile is not set: an init script finds the daemon by
 *   its pidfile, and a detached client has no terminal to log to.
 */
export async function detachCommand(args: CliArgs, argv: readonly string[]): Promise<number> {
  const config = await loadConfig({ configPath: args.configPath, overrides: args.overrides });
  const missing = config.pidfile === "" ? "pidfile" : config.logfile === "" ? "logfile" : "";
  if (missing !== "") {
    throw new ConfigError(
      `-d (detach) needs ${missing} set in ${args.configPath}: an init script finds the daemon by its pidfile, and a detached client has no terminal to log to (under systemd, run it without -d: systemctl start osad2-client)`,
      { path: args.configPath, key: missing },
    );
  }
  await detach({ program: "osad2-client", pidfile: config.pidfile, argv: withoutDetach(argv) });
  return EXIT_OK;
}
