import {
  EXIT_OK,
  acquirePidfile,
  createLogger,
  describeError,
  detachedReady,
  exitOnFatalErrors,
  type ServiceLogger,
} from "@osad2/service-kit";
import type { CliArgs } from "../cli-args.js";
import { DEFAULT_STOP_GRACE_MS, createClient } from "../client.js";
import { type ClientConfig, loadConfig } from "../config.js";
import { SubprocessRegistration } from "../registration-subprocess.js";

/** The program name: the logger's `name`, and what the pidfile check looks for. */
const PROGRAM = "osad2-client";

/**
 * `osad2-client run`: the service. Resolves with the exit code once stopped by SIGTERM/SIGINT;
 * SIGHUP reloads config and keys (a bad new config is logged and the old one kept).
 */
export async function runCommand(args: CliArgs): Promise<number> {
  const config = await loadConfig({ configPath: args.configPath, overrides: args.overrides });
  const logging = createLogger({
    name: PROGRAM,
    file: config.logfile,
    debug: config.debugLevel > 0,
    fallbackFd: 1,
    // A compromised or broken server can send a million checkins or malformed messages.
    repeatLimits: {},
  });
  exitOnFatalErrors(logging, PROGRAM);
  const log = logging.logger;
  const release = config.pidfile
    ? await acquirePidfile(config.pidfile, { program: PROGRAM })
    : async () => undefined;
  try {
    // register_osad in a helper process: the service stays free of the HTTP/TLS stack.
    const client = createClient(config, {
      logger: log,
      registration: new SubprocessRegistration(),
    });
    await client.start();
    // Started with -d: the waiting parent may exit 0 now.
    detachedReady();
    // The service must not end just because, for a moment, no socket or timer is pending.
    const keepAlive = setInterval(() => undefined, 2 ** 30);
    await new Promise<void>((resolve) => {
      let stopping = false;
      const stop = (signal: NodeJS.Signals): void => {
        if (stopping) {
          log.warn({ signal }, "already stopping; waiting for rhn_check to finish");
          return;
        }
        stopping = true;
        log.info({ signal }, "signal received; stopping");
        process.off("SIGHUP", hup);
        void client.stop(DEFAULT_STOP_GRACE_MS).then(resolve, (error: unknown) => {
          log.error({ error: describeError(error) }, "error while stopping");
          resolve();
        });
      };
      const hup = (): void => void reload(client, args, logging);
      process.on("SIGTERM", stop);
      process.on("SIGINT", stop);
      process.on("SIGHUP", hup);
    });
    clearInterval(keepAlive);
    logging.flush();
    return EXIT_OK;
  } finally {
    await release();
  }
}

async function reload(
  client: { reload(config: ClientConfig): Promise<void> },
  args: CliArgs,
  logging: ServiceLogger,
): Promise<void> {
  // SIGHUP is also logrotate's signal: write to the new file from here on.
  logging.reopen();
  const log = logging.logger;
  log.info("SIGHUP: reloading configuration and keys");
  try {
    const config = await loadConfig({ configPath: args.configPath, overrides: args.overrides });
    log.level = config.debugLevel > 0 ? "debug" : "info";
    await client.reload(config);
  } catch (error) {
    log.error(
      { error: describeError(error) },
      `reload failed, keeping the running configuration: ${describeError(error)}`,
    );
  }
}
