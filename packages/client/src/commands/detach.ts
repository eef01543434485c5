import { assertDetachable, detach, EXIT_OK } from "@osad2/service-kit";
import { withoutDetach, type CliArgs } from "../cli-args.js";
import { loadConfig } from "../config.js";

/**
 * `osad2-client -c FILE -d`, as the seed's init scripts call it: checks the configuration here
 * (a bad one exits 2 with its one line on the terminal), starts `run` in the background and
 * exits 0 once that process is up and has written its pidfile. Under systemd the unit runs the
 * client in the foreground instead.
 * @throws {ConfigError} when pidfile or logfile is not set (see assertDetachable).
 */
export async function detachCommand(args: CliArgs, argv: readonly string[]): Promise<number> {
  const config = await loadConfig({ configPath: args.configPath, overrides: args.overrides });
  assertDetachable({
    program: "osad2-client",
    configPath: args.configPath,
    pidfile: config.pidfile,
    logFile: { key: "logfile", value: config.logfile },
  });
  await detach({ program: "osad2-client", pidfile: config.pidfile, argv: withoutDetach(argv) });
  return EXIT_OK;
}
