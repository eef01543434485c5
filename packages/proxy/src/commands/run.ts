import { runService } from "@osad2/service-kit";
import type { ProxyInvocation } from "../cli-args.js";
import { loadProxyConfig } from "../config.js";
import { loadProxyKeys } from "../keys.js";
import { createProxy } from "../proxy.js";

/** The program name: the logger's `name` and what the pidfile check looks for. */
const PROGRAM = "osad2-proxy";

/**
 * `osad2-proxy run`: runs in the foreground until SIGTERM/SIGINT (exit 0); SIGHUP reopens the
 * log file. Keeps nothing on disk but its log and pidfile. Resolves with the exit code.
 */
export async function runCommand(invocation: ProxyInvocation): Promise<number> {
  const config = await loadProxyConfig({
    path: invocation.configPath,
    required: invocation.configRequired,
    flags: invocation.flags,
  });
  // Before the log file and the pidfile exist: a start that cannot work creates neither.
  const keys = await loadProxyKeys(config.certificates);
  return runService({
    program: PROGRAM,
    logFile: config.logFile,
    debug: config.debug,
    pidfile: config.pidfile,
    create: (logger) =>
      createProxy({
        name: config.name,
        upstream: config.upstream,
        bind: config.bind,
        listenerPort: config.listenerPort,
        proxyPort: config.proxyPort,
        keys,
        logger,
      }),
  });
}
