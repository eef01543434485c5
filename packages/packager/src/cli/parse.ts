import { Command, CommanderError, Option } from "commander";
import { PACKAGER_VERSION } from "../constants.js";
import {
  DEFAULT_RELEASE,
  DEFAULT_SERVER_CERTIFICATES_DIR,
  DEFAULT_SERVER_CONFIG_PATH,
  type CreateClientOptions,
  type CreateServerKeysOptions,
} from "../options.js";
import type { RevokeClientOptions } from "../revoke-client.js";

/** What the command line asks for; {@link parseCommandLine} performs no action itself. */
export type ParsedCommand =
  | { readonly kind: "createserver"; readonly options: CreateServerKeysOptions }
  | { readonly kind: "createclient"; readonly options: CreateClientOptions }
  | {
      readonly kind: "createclients";
      readonly namesFrom: string;
      readonly options: Omit<CreateClientOptions, "name">;
    }
  | { readonly kind: "revokeclient"; readonly options: RevokeClientOptions }
  /** Help, version or a usage error: already printed; exit with `code`. */
  | { readonly kind: "exit"; readonly code: number };

/** Where commander prints help and usage errors (the process streams, or buffers in tests). */
export interface CliOutput {
  writeOut(text: string): void;
  writeErr(text: string): void;
}

/** Exit code of a usage error (bad or missing flags). */
export const EXIT_USAGE = 2;

interface ServerFlags {
  certificates?: string;
  config?: string | false;
  force?: boolean;
}

interface ClientFlags {
  name?: string;
  namesFrom?: string;
  certificates?: string;
  serverHost?: string;
  out?: string;
  keysOnly?: boolean;
  force?: boolean;
  release?: string;
  arch?: string;
  rpmbuild?: string;
}

function buildProgram(output: CliOutput, found: { parsed?: ParsedCommand }): Command {
  const program = new Command("osad2-packager")
    .description(
      "Creates the osad2 server's CURVE keys and one RPM per client system with its own fresh key pair.",
    )
    .version(PACKAGER_VERSION, "-V, --version")
    .configureOutput({ writeOut: (t) => output.writeOut(t), writeErr: (t) => output.writeErr(t) })
    .exitOverride()
    .showHelpAfterError("(run with --help for usage)");

  program
    .command("createserver")
    .description(
      "create the server key pair (private_keys/server.key_secret, public_keys/server.key) and a default server config",
    )
    .option("--certificates <dir>", "certificates directory", DEFAULT_SERVER_CERTIFICATES_DIR)
    .option(
      "--config <file>",
      "server config to write when it does not exist",
      DEFAULT_SERVER_CONFIG_PATH,
    )
    .option("--no-config", "do not write a server config")
    .option(
      "--force",
      "replace an existing server key pair (the old files are kept as a dated backup)",
    )
    .action((flags: ServerFlags) => {
      found.parsed = {
        kind: "createserver",
        options: {
          ...(flags.certificates === undefined ? {} : { certificates: flags.certificates }),
          ...(flags.config === undefined ? {} : { config: flags.config }),
          ...(flags.force === true ? { force: true } : {}),
        },
      };
    });

  program
    .command("createclient")
    .description(
      "generate a client key pair, build its RPM, and add its public key to the server's public_keys/",
    )
    .addOption(
      new Option(
        "--name <name>",
        "the system's name ([A-Za-z0-9._-], at most 64 characters)",
      ).conflicts("namesFrom"),
    )
    .option("--names-from <file>", "build one RPM per name in FILE (one per line, # comments)")
    .option(
      "--certificates <dir>",
      "the server's certificates directory",
      DEFAULT_SERVER_CERTIFICATES_DIR,
    )
    .option(
      "--server-host <host>",
      "server host written to the client config (default: this host's name)",
    )
    .option("--out <dir>", "directory for the RPMs (default: the current directory)")
    .option(
      "--keys-only",
      "build a noarch RPM with only the keys and the config (client installed from npm)",
    )
    .option("--force", "replace an existing client of the same name (its key and RPM)")
    .option(
      "--release <n>",
      "RPM release; bump it when re-issuing a system's keys",
      DEFAULT_RELEASE,
    )
    .option("--arch <arch>", "target architecture: x86_64 or aarch64 (default: this machine's)")
    .option("--rpmbuild <path>", "rpmbuild program (default: rpmbuild on PATH)")
    .action((flags: ClientFlags) => {
      const options: Omit<CreateClientOptions, "name"> = {
        ...(flags.certificates === undefined ? {} : { certificates: flags.certificates }),
        ...(flags.serverHost === undefined ? {} : { serverHost: flags.serverHost }),
        ...(flags.out === undefined ? {} : { out: flags.out }),
        ...(flags.keysOnly === true ? { keysOnly: true } : {}),
        ...(flags.force === true ? { force: true } : {}),
        ...(flags.release === undefined ? {} : { release: flags.release }),
        ...(flags.arch === undefined ? {} : { arch: flags.arch }),
        ...(flags.rpmbuild === undefined ? {} : { rpmbuild: flags.rpmbuild }),
      };
      if (flags.namesFrom !== undefined) {
        found.parsed = { kind: "createclients", namesFrom: flags.namesFrom, options };
      } else if (flags.name !== undefined) {
        found.parsed = { kind: "createclient", options: { name: flags.name, ...options } };
      } else {
        program.commands
          .find((command) => command.name() === "createclient")
          ?.error("error: createclient needs --name NAME or --names-from FILE", {
            exitCode: EXIT_USAGE,
            code: "osad2.missingName",
          });
      }
    });
  program
    .command("revokeclient")
    .description(
      "withdraw a client's access: move its key from public_keys/ to revoked/ (a running server cuts it off within seconds)",
    )
    .requiredOption("--name <name>", "the name given to createclient")
    .option(
      "--certificates <dir>",
      "the server's certificates directory",
      DEFAULT_SERVER_CERTIFICATES_DIR,
    )
    .action((flags: { name: string; certificates: string }) => {
      found.parsed = {
        kind: "revokeclient",
        options: { name: flags.name, certificates: flags.certificates },
      };
    });

  return program;
}

/**
 * Parses `argv` (without node and the script) into the command to run. Help, version and usage errors are
 * printed to `output` and come back as `{kind: "exit"}`.
 */
export function parseCommandLine(argv: readonly string[], output: CliOutput): ParsedCommand {
  const found: { parsed?: ParsedCommand } = {};
  const program = buildProgram(output, found);
  try {
    program.parse([...argv], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version exit 0; everything else commander refuses is a usage error.
      return { kind: "exit", code: error.exitCode === 0 ? 0 : EXIT_USAGE };
    }
    throw error;
  }
  if (found.parsed === undefined) {
    // No command given: show what there is.
    output.writeErr(program.helpInformation());
    return { kind: "exit", code: EXIT_USAGE };
  }
  return found.parsed;
}
