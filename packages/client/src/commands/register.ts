import type { CliArgs } from "../cli-args.js";
import { loadConfig } from "../config.js";
import { registerOsad } from "../registration.js";
import { readStateFile, serviceAlive } from "../state.js";

/**
 * `osad2-client register`: one register_osad call; returns the reply struct as received.
 * Registration rotates the client name: a running service's name is then stale, said on stderr.
 */
export async function registerCommand(
  args: CliArgs,
  warn: (line: string) => void,
): Promise<Record<string, unknown>> {
  const config = await loadConfig({ configPath: args.configPath, overrides: args.overrides });
  const reply = await registerOsad({
    serverUrl: config.serverUrl,
    caCert: config.caCert,
    systemidPath: config.systemid,
  });
  const running = await readStateFile(config.stateFile).catch(() => undefined);
  if (running !== undefined && (await serviceAlive(running))) {
    warn(
      `note: the running osad2-client (pid ${running.pid}) still uses the old name ${JSON.stringify(running.registration?.clientName ?? null)}; an osad2 server answers its next ping with unknown-client and it registers again by itself (with a seed server: systemctl restart osad2-client)`,
    );
  }
  return { ...reply.raw };
}
