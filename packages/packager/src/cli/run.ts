import { SingleBar } from "cli-progress";
import type { Writable } from "node:stream";
import { createClientPackage, type ClientPackage } from "../client-package.js";
import {
  createClientPackages,
  readNamesFile,
  type ClientPackageOutcome,
} from "../client-packages.js";
import { AmbiguousKeyNameError, InvalidNameError, InvalidOptionError } from "../errors.js";
import { createProxyPackage } from "../proxy-package.js";
import { revokeKey } from "../revoke-key.js";
import { createServerKeys } from "../server-keys.js";
import { createServerPackage } from "../server-package.js";
import { revokeClient } from "../revoke-client.js";
import { listKeys } from "../keys-list.js";
import { formatKeyJson, formatKeyTable } from "./keys-output.js";
import { parseCliArgs, type PackagerCommand } from "./parse.js";
import {
  EXIT_FAILURE,
  EXIT_OK,
  describeError as describeAny,
  exitCodeFor,
  printParseExit,
} from "@osad2/service-kit";

/** The streams the CLI talks to; a progress bar is drawn only when `stdout` is a TTY. */
export interface CliStreams {
  readonly stdout: Writable & { isTTY?: boolean };
  readonly stderr: Writable;
}

/** Errors that mean "fix the command line" (exit 2, as a usage error): a bad flag value or name. */
const USAGE_ERRORS = [InvalidOptionError, InvalidNameError, AmbiguousKeyNameError];

const PREFIX = "osad2-packager";

/**
 * Runs the command line; returns the exit code (service-kit's convention: 0 ok, 1 failed,
 * 2 usage: a bad flag, name or value). Prints one line for an expected failure; never exits.
 */
export async function main(argv: readonly string[], streams: CliStreams): Promise<number> {
  const parsed = parseCliArgs(argv);
  if (parsed.kind === "exit") return printParseExit(parsed, streams);
  try {
    return await runCommand(parsed.command, streams);
  } catch (error) {
    streams.stderr.write(`${PREFIX}: ${describeError(error)}\n`);
    return exitCodeFor(error, USAGE_ERRORS);
  }
}

async function runCommand(parsed: PackagerCommand, streams: CliStreams): Promise<number> {
  const print = (line: string): void => void streams.stdout.write(`${line}\n`);
  switch (parsed.kind) {
    case "createserver": {
      const result = await createServerKeys(parsed.options);
      if (result.created) {
        print(`server key pair created: ${result.secretKeyPath} (0600), ${result.publicKeyPath}`);
        if (result.backupPath !== undefined)
          print(`previous server key kept as ${result.backupPath}`);
      } else {
        print(
          `server key pair already exists, kept: ${result.secretKeyPath} (pass --force to replace it)`,
        );
      }
      print(`server public key: ${result.publicKey}`);
      if (result.configPath !== undefined) {
        print(
          result.configWritten
            ? `server config written: ${result.configPath}`
            : `server config exists, kept: ${result.configPath}`,
        );
      }
      return EXIT_OK;
    }
    case "createclient": {
      const client = await createClientPackage(parsed.options);
      print(`built ${client.rpmPath}`);
      print(`client ${client.name}: public key ${client.publicKey} added to ${client.keyPath}`);
      const replaced = describeReplaced(client);
      if (replaced !== undefined) print(replaced);
      return EXIT_OK;
    }
    case "createclients":
      return runBatch(parsed, streams);
    case "createproxy": {
      const proxy = await createProxyPackage(parsed.options);
      print(
        `built ${proxy.rpmPath ?? `${proxy.treeDir ?? "?"}/ (copy its contents to / on the proxy host)`}`,
      );
      print(`proxy ${proxy.name}: public key ${proxy.publicKey} added to ${proxy.keyPath}`);
      print(
        `upstream: ${proxy.upstream.join(", ")} (${proxy.upstreamIs}'s public key in public_keys/upstream.key)`,
      );
      print(
        proxy.host === undefined
          ? `no --host recorded: createclient --proxy ${proxy.name} needs --server-host`
          : `systems behind it: osad2-packager createclient --name NAME --proxy ${proxy.name} (server_host ${proxy.host})`,
      );
      return EXIT_OK;
    }
    case "revokekey": {
      const revoked = await revokeKey(parsed.options);
      const [first, ...more] = revoked.keys;
      print(`${revoked.kind} ${parsed.options.name} revoked: its key is now ${first?.path ?? "?"}`);
      for (const key of more) print(`  its retiring key ${key.publicKey} too: ${key.path}`);
      return EXIT_OK;
    }
    case "serverrpm": {
      const server = await createServerPackage(parsed.options);
      print(`built ${server.rpmPath}`);
      return EXIT_OK;
    }
    case "revokeclient": {
      const [first, ...more] = await revokeClient(parsed.options);
      print(`client ${parsed.options.name} revoked: its key is now ${first?.path ?? "?"}`);
      for (const key of more) print(`  its retiring key ${key.publicKey} too: ${key.path}`);
      return EXIT_OK;
    }
    case "keys-list": {
      const list = await listKeys(parsed.options);
      streams.stdout.write(parsed.json ? formatKeyJson(list) : formatKeyTable(list));
      // The allow-list is listed whatever state the usage file is in (an incident is when it
      // is needed); the exit code keeps scripts from taking "unknown" for "never seen".
      if (list.usageError !== null) {
        streams.stderr.write(
          `${PREFIX}: systems and last-seen times unknown: ${list.usageError}\n`,
        );
        return EXIT_FAILURE;
      }
      return EXIT_OK;
    }
  }
}

async function runBatch(
  parsed: Extract<PackagerCommand, { kind: "createclients" }>,
  streams: CliStreams,
): Promise<number> {
  const names = await readNamesFile(parsed.namesFrom);
  const print = (line: string): void => void streams.stdout.write(`${line}\n`);
  const bar =
    streams.stdout.isTTY === true
      ? new SingleBar({
          stream: streams.stdout,
          format: "building {bar} {value}/{total} {name}",
          hideCursor: true,
        })
      : undefined;
  bar?.start(names.length, 0, { name: names[0] ?? "" });
  const outcomes = await createClientPackages({ ...parsed.options, names }, (outcome, index) => {
    if (bar !== undefined) bar.update(index + 1, { name: names[index + 1] ?? "" });
    else print(describeOutcome(outcome));
  });
  bar?.stop();

  const failed = outcomes.filter((outcome) => !outcome.ok);
  print(
    `built ${outcomes.length - failed.length} of ${outcomes.length} client packages${failed.length > 0 ? `; ${failed.length} failed:` : ""}`,
  );
  for (const outcome of failed) print(`  ${describeOutcome(outcome)}`);
  if (bar !== undefined) {
    for (const outcome of outcomes) if (outcome.ok) print(`  ${describeOutcome(outcome)}`);
  }
  return failed.length > 0 ? EXIT_FAILURE : EXIT_OK;
}

function describeOutcome(outcome: ClientPackageOutcome): string {
  if (!outcome.ok) return `FAILED ${outcome.name}: ${describeError(outcome.error)}`;
  const replaced = describeReplaced(outcome.client);
  return `ok ${outcome.name}: ${outcome.client.rpmPath}${replaced === undefined ? "" : `; ${replaced}`}`;
}

/** What became of the old key of a re-issued client. */
function describeReplaced(client: ClientPackage): string | undefined {
  if (client.retiring !== undefined) {
    return `old key kept allowed as ${client.retiring.path} until ${client.retiring.deadline.toISOString()} or until the new key first connects, then moved to revoked/`;
  }
  if (client.revoked !== undefined) {
    return `old key revoked: ${client.revoked.map((key) => key.path).join(", ")}`;
  }
  return undefined;
}

/** One line for the terminal; option errors name the flag (`--server-host`), not the library key. */
function describeError(error: unknown): string {
  if (error instanceof InvalidOptionError) {
    return `invalid --${error.option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${error.problem}`;
  }
  return describeAny(error);
}
