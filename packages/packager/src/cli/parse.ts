import {
  EXIT_USAGE,
  parseCommandLine,
  type CliParseResult,
  type RecordCommand,
} from "@osad2/service-kit";
import { Command, InvalidArgumentError, Option } from "commander";
import { PACKAGER_VERSION } from "../constants.js";
import { InvalidOptionError } from "../errors.js";
import {
  DEFAULT_RELEASE,
  DEFAULT_SERVER_CERTIFICATES_DIR,
  DEFAULT_SERVER_CONFIG_PATH,
  type ClientPackageOptions,
  type CreateServerKeysOptions,
  type ServerPackageOptions,
} from "../options.js";
import type { RevokeClientOptions } from "../revoke-client.js";
import type { RevokeKeyOptions } from "../revoke-key.js";
import type { ProxyPackageOptions } from "../proxy-options.js";
import { DEFAULT_SERVER_STATE_DIR, type ListKeysOptions } from "../keys-list.js";
import { DEFAULT_OVERLAP_MS, parseOverlap } from "../overlap.js";

/** What the command line asks for; {@link parseCliArgs} performs no action itself. */
export type PackagerCommand =
  | { readonly kind: "createserver"; readonly options: CreateServerKeysOptions }
  | { readonly kind: "createclient"; readonly options: ClientPackageOptions }
  | {
      readonly kind: "createclients";
      readonly namesFrom: string;
      readonly options: Omit<ClientPackageOptions, "name">;
    }
  | { readonly kind: "createproxy"; readonly options: ProxyPackageOptions }
  | { readonly kind: "revokeclient"; readonly options: RevokeClientOptions }
  | { readonly kind: "revokekey"; readonly options: RevokeKeyOptions }
  | { readonly kind: "keys-list"; readonly options: ListKeysOptions; readonly json: boolean }
  | { readonly kind: "serverrpm"; readonly options: ServerPackageOptions };

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
  proxy?: string;
  out?: string;
  keysOnly?: boolean;
  force?: boolean;
  overlap?: number;
  release?: string;
  arch?: string;
  rpmbuild?: string;
}

interface ProxyFlags {
  parent?: string;
  host?: string;
  upstream?: string;
  out?: string;
  output?: string;
  certificates: string;
  keysDir?: string;
  rpm: boolean;
  release?: string;
  rpmbuild?: string;
}

/** `--overlap`: a usage error (exit 2) naming the flag, as commander reports bad arguments. */
function overlapArgument(text: string): number {
  try {
    return parseOverlap(text);
  } catch (error) {
    throw new InvalidArgumentError(
      error instanceof InvalidOptionError ? error.problem : String(error),
    );
  }
}

/** Builds the commander program; its actions hand the parsed command to `record`. */
export function buildProgram(record: RecordCommand<PackagerCommand>): Command {
  const program = new Command("osad2-packager")
    .description(
      "Creates the osad2 server's CURVE keys and one RPM per client system with its own fresh key pair.",
    )
    .version(PACKAGER_VERSION, "-V, --version")
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
      record({
        kind: "createserver",
        options: {
          ...(flags.certificates === undefined ? {} : { certificates: flags.certificates }),
          ...(flags.config === undefined ? {} : { config: flags.config }),
          ...(flags.force === true ? { force: true } : {}),
        },
      });
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
      "--server-host <hosts>",
      "server_host of the client config: a host, or failover servers sw1,sw2:5556 (default: none, the client connects where register_osad tells it, to every failover server; with --proxy: the proxy's host)",
    )
    .option(
      "--proxy <name>",
      "the system connects through this osad2 proxy (from createproxy): its RPM trusts the proxy's public key and connects to the proxy's host",
    )
    .option("--out <dir>", "directory for the RPMs (default: the current directory)")
    .option(
      "--keys-only",
      "build a noarch RPM with only the keys and the config (client installed from npm)",
    )
    .option(
      "--force",
      "re-issue an existing client of the same name: new key and RPM; the old key stays allowed (retiring/) until the new one first connects or --overlap runs out, then moves to revoked/",
    )
    .addOption(
      new Option(
        "--overlap <duration>",
        "with --force: how long the old key stays allowed if the new one never connects (30m, 12h, 7d; 0 = revoke it now)",
      )
        .argParser(overlapArgument)
        .default(DEFAULT_OVERLAP_MS, "7d"),
    )
    .option(
      "--release <n>",
      "RPM release; bump it when re-issuing a system's keys",
      DEFAULT_RELEASE,
    )
    .option("--arch <arch>", "target architecture: x86_64 or aarch64 (default: this machine's)")
    .option("--rpmbuild <path>", "rpmbuild program (default: rpmbuild on PATH)")
    .action((flags: ClientFlags) => {
      const options: Omit<ClientPackageOptions, "name"> = {
        ...(flags.certificates === undefined ? {} : { certificates: flags.certificates }),
        ...(flags.serverHost === undefined ? {} : { serverHost: flags.serverHost }),
        ...(flags.proxy === undefined ? {} : { proxy: flags.proxy }),
        ...(flags.out === undefined ? {} : { out: flags.out }),
        ...(flags.keysOnly === true ? { keysOnly: true } : {}),
        ...(flags.force === true ? { force: true } : {}),
        ...(flags.overlap === undefined ? {} : { overlapMs: flags.overlap }),
        ...(flags.release === undefined ? {} : { release: flags.release }),
        ...(flags.arch === undefined ? {} : { arch: flags.arch }),
        ...(flags.rpmbuild === undefined ? {} : { rpmbuild: flags.rpmbuild }),
      };
      if (flags.namesFrom !== undefined) {
        record({ kind: "createclients", namesFrom: flags.namesFrom, options });
      } else if (flags.name !== undefined) {
        record({ kind: "createclient", options: { name: flags.name, ...options } });
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
    .command("createproxy")
    .description(
      "generate an osad2 proxy's key pair, build its keys RPM (osad2-proxy-keys-NAME: keys, osad2-proxy.conf, unit, firewalld services) and add its public key to the server's proxies/",
    )
    .argument("<name>", "the proxy's name ([A-Za-z0-9._-], at most 64 characters)")
    .option(
      "--parent <proxy>",
      "the proxy this one sits behind (from createproxy): it trusts the parent's key and connects to the parent's host",
    )
    .option(
      "--host <host>",
      "the host systems and child proxies reach this proxy at; recorded for createclient --proxy and createproxy --parent",
    )
    .option(
      "--upstream <hosts>",
      "where the proxy connects, host[:port],... (port default 5558): the failover servers, or the parent (default: the parent's host, else this host)",
    )
    .addOption(
      new Option("--out <dir>", "directory for the RPM (default: the current directory)").conflicts(
        "output",
      ),
    )
    .addOption(new Option("--output <dir>", "the same as --out").hideHelp())
    .addOption(
      new Option("--certificates <dir>", "the server's certificates directory")
        .default(DEFAULT_SERVER_CERTIFICATES_DIR)
        .conflicts("keysDir"),
    )
    .addOption(new Option("--keys-dir <dir>", "the same as --certificates").hideHelp())
    .option(
      "--no-rpm",
      "write the files as a tree DIR/osad2-proxy-keys-NAME/ (copy its contents to / on the proxy host) instead of an RPM",
    )
    .option("--release <n>", "RPM release", DEFAULT_RELEASE)
    .option("--rpmbuild <path>", "rpmbuild program (default: rpmbuild on PATH)")
    .action((name: string, flags: ProxyFlags) => {
      const out = flags.out ?? flags.output;
      record({
        kind: "createproxy",
        options: {
          name,
          certificates: flags.keysDir ?? flags.certificates,
          ...(flags.parent === undefined ? {} : { parent: flags.parent }),
          ...(flags.host === undefined ? {} : { host: flags.host }),
          ...(flags.upstream === undefined ? {} : { upstream: flags.upstream }),
          ...(out === undefined ? {} : { out }),
          ...(flags.rpm ? {} : { noRpm: true }),
          ...(flags.release === undefined ? {} : { release: flags.release }),
          ...(flags.rpmbuild === undefined ? {} : { rpmbuild: flags.rpmbuild }),
        },
      });
    });

  const keys = program
    .command("keys")
    .description(
      "list and revoke client and proxy keys, like salt-key: allowed (public_keys/, proxies/), retiring (re-issued, retiring/) and revoked (revoked/)",
    );
  keys
    .command("list")
    .description(
      "list every client and proxy key (KIND) with its state, the system it belongs to and when the server last saw it (from the server's key-usage.json)",
    )
    .option(
      "--certificates <dir>",
      "the server's certificates directory",
      DEFAULT_SERVER_CERTIFICATES_DIR,
    )
    .option(
      "--state-dir <dir>",
      "the server's state_dir, where it writes key-usage.json",
      DEFAULT_SERVER_STATE_DIR,
    )
    .option("--json", "print JSON: {keys: [{name, kind, state, ...}], usageFile, usageError}")
    .action((flags: { certificates: string; stateDir: string; json?: boolean }) => {
      record({
        kind: "keys-list",
        options: { certificates: flags.certificates, stateDir: flags.stateDir },
        json: flags.json === true,
      });
    });
  keys
    .command("revoke")
    .description(
      "withdraw a client's or a proxy's access: move its key (and any retiring key of that name) to revoked/; a running server cuts it off within seconds (a proxy: with every system behind it)",
    )
    .argument("<name>", "the name given to createclient or createproxy")
    .option(
      "--certificates <dir>",
      "the server's certificates directory",
      DEFAULT_SERVER_CERTIFICATES_DIR,
    )
    .addOption(
      new Option("--client", "the client of that name (when a proxy has it too)").conflicts(
        "proxy",
      ),
    )
    .option("--proxy", "the proxy of that name (when a client has it too)")
    .action((name: string, flags: { certificates: string; client?: boolean; proxy?: boolean }) => {
      const kind = flags.proxy === true ? "proxy" : flags.client === true ? "client" : undefined;
      record({
        kind: "revokekey",
        options: {
          name,
          certificates: flags.certificates,
          ...(kind === undefined ? {} : { kind }),
        },
      });
    });

  program
    .command("revokeclient")
    .description("the same as `keys revoke NAME` (kept for existing scripts)")
    .requiredOption("--name <name>", "the name given to createclient")
    .option(
      "--certificates <dir>",
      "the server's certificates directory",
      DEFAULT_SERVER_CERTIFICATES_DIR,
    )
    .action((flags: { name: string; certificates: string }) => {
      record({
        kind: "revokeclient",
        options: { name: flags.name, certificates: flags.certificates },
      });
    });

  program
    .command("serverrpm")
    .description(
      "build the osad2-server RPM for the Spacewalk host from the @osad2/server installed here (its node_modules, this machine's architecture), run as the osad2 user",
    )
    .option("--out <dir>", "directory for the RPM (default: the current directory)")
    .option("--release <n>", "RPM release", DEFAULT_RELEASE)
    .option("--force", "replace an existing RPM of the same name")
    .option("--rpmbuild <path>", "rpmbuild program (default: rpmbuild on PATH)")
    .option(
      "--server-dir <dir>",
      "the installed @osad2/server to package (default: the one next to osad2-packager)",
    )
    .action(
      (flags: {
        out?: string;
        release?: string;
        force?: boolean;
        rpmbuild?: string;
        serverDir?: string;
      }) => {
        record({
          kind: "serverrpm",
          options: {
            ...(flags.serverDir === undefined ? {} : { serverDir: flags.serverDir }),
            ...(flags.out === undefined ? {} : { out: flags.out }),
            ...(flags.release === undefined ? {} : { release: flags.release }),
            ...(flags.force === true ? { force: true } : {}),
            ...(flags.rpmbuild === undefined ? {} : { rpmbuild: flags.rpmbuild }),
          },
        });
      },
    );

  return program;
}

/**
 * Parses `argv` (without node and the script) into the command to run, without printing or
 * exiting: help and --version come back as exit code 0 with their text, usage errors as
 * {@link EXIT_USAGE} with commander's message.
 */
export function parseCliArgs(argv: readonly string[]): CliParseResult<PackagerCommand> {
  return parseCommandLine(buildProgram, argv);
}
