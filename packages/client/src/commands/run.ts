import type { Logger } from "pino";
import type { CliArgs } from "../cli-args.js";
import { DEFAULT_STOP_GRACE_MS, createClient } from "../client.js";
import { type ClientConfig, loadConfig } from "../config.js";
import { describeError } from "../errors.js";
import { createLogger } from "../logger.js";
import { acquirePidfile } from "../pidfile.js";

/**
 * `osad2-client run`: the service. Resolves with the exit code once stopped by SIGTERM/SIGINT;
 * SIGHUP reloads config and keys (a bad new config is logged and the old one kept).
 */
export async function runCommand(args: CliArgs): Promise<number> {
  const config = await loadConfig({ configPath: args.configPath, overrides: args.overrides });
  const log = createLogger({
    logfile: config.logfile,
    debugLevel: config.debugLevel,
    fallbackFd: 1,
  });
  const release = config.pidfile ? await acquirePidfile(config.pidfile) : async () => undefined;
  try {
    const client = createClient(config, { logger: log });
    await client.start();
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
      const hup = (): void => void reload(client, args, log);
      process.on("SIGTERM", stop);
      process.on("SIGINT", stop);
      process.on("SIGHUP", hup);
    });
    clearInterval(keepAlive);
    return 0;
  } finally {
    await release();
  }
}

async function reload(
  client: { reload(config: ClientConfig): Promise<void> },
  args: CliArgs,
  log: Logger,
): Promise<void> {
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
