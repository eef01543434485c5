import { STATUS_EXIT } from "@osad2/service-kit";
import type { CliArgs } from "../cli-args.js";
import { loadStateFilePath } from "../config.js";
import { StateFileError } from "../errors.js";
import { type ClientStatus, readStateFile, serviceAlive } from "../state.js";

/** What `osad2-client status` prints and exits with. */
export type StatusOutcome =
  | {
      readonly report: ClientStatus & { readonly alive: boolean };
      readonly exitCode: number;
    }
  | { readonly problem: string; readonly exitCode: number };

/**
 * `osad2-client status`: the state file plus whether its process is still alive, with the LSB
 * status codes init scripts and monitoring read: 0 connected; 1 running but not connected
 * (registering, connecting, disconnected, auth-failure); 3 not running (no state file, stopped,
 * or its process is gone); 4 the state file cannot be read. Reads only the config file (for
 * `state_file`) and the state file.
 */
export async function statusCommand(args: CliArgs): Promise<StatusOutcome> {
  const path = await loadStateFilePath({ configPath: args.configPath, overrides: args.overrides });
  let status: ClientStatus;
  try {
    status = await readStateFile(path);
  } catch (error) {
    if (!(error instanceof StateFileError)) throw error;
    const missing = error.problem === "missing";
    return {
      problem: `${missing ? "not running: " : ""}${error.message}`,
      exitCode: missing ? STATUS_EXIT.notRunning : STATUS_EXIT.unknown,
    };
  }
  const alive = await serviceAlive(status);
  const exitCode = !alive
    ? STATUS_EXIT.notRunning
    : status.state === "connected"
      ? STATUS_EXIT.healthy
      : STATUS_EXIT.unhealthy;
  return { report: { ...status, alive }, exitCode };
}
