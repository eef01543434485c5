import {
  DEFAULT_CLIENTS_PER_PROCESS,
  type DatabaseChoice,
  type SimRegistrationMethod,
} from "@osad2/testkit";

/** Flags shared by the benches (`tools/bench <command> --flag value`). */
export interface BenchOptions {
  /** `--db sqlite|postgres|both`. Default: both for latency, postgres otherwise. */
  readonly db: DatabaseChoice | "both";
  /** `--clients N`. Default 1000. */
  readonly clients: number;
  /** `--tries N` (latency). Default 100. */
  readonly tries: number;
  /** `--register xmlrpc|store`: how simulated systems get their push-client name. Default xmlrpc. */
  readonly register: SimRegistrationMethod;
  /** `--checkin-count N`: the server's throttle (0 = unlimited). Default 100 (the server's default). */
  readonly checkinCount: number;
  /** `--ping-interval S`. Default 10 (the server's default). */
  readonly pingInterval: number;
  /** `--poll-interval S` (action_poll_interval). Default 1; latency 5 (the server's default). */
  readonly pollInterval: number;
  /** `--clients-per-process N` for the simulated clients. Default 1000. */
  readonly clientsPerProcess: number;
  /** `--connect-rate N`: simulated clients started per second (0 = all at once). Default 200. */
  readonly connectRate: number;
  /** `--command PATH`: spawned per checkin by each simulated client; default none (recorded only). */
  readonly command: readonly string[];
  /** `--signal TERM|KILL` (storm): how the server is stopped. Default TERM. */
  readonly signal: "SIGTERM" | "SIGKILL";
  /** `--down S` (storm): seconds the server stays down. Default 5. */
  readonly downSeconds: number;
  /** `--idle S` (footprint): idle measurement window. Default 60. */
  readonly idleSeconds: number;
  /** `--timeout S`: the longest any phase may take before the bench reports and gives up. Default 900. */
  readonly timeoutSeconds: number;
  /** `--server-cli PATH`: another build of the server's cli.js (experiments); default the workspace's. */
  readonly serverCli: string | undefined;
  /** `--echo`: copy server and client output to stderr. */
  readonly echo: boolean;
  /** `--topology single|pair` of `raw`: default the one osad2 runs ({@link OSAD2_TOPOLOGY}). */
  readonly topology: RawTopology;
  /** `--steady S` (raw): the window over which the raw server's CPU with N pinged idle clients is read. Default 30. */
  readonly steadySeconds: number;
  /** `--proxies P` (proxy): osad2-proxy processes the clients are split across. Default 3. */
  readonly proxies: number;
  /** fanout, storm, footprint: also run `raw` with the same clients and print the ratios; `--no-raw` skips it. */
  readonly raw: boolean;
}

/**
 * The sockets of `tools/bench raw`. `pair`: server PUB + ROUTER, client SUB + DEALER (two
 * connections per client, osad2 before issue 13). `single`: server ROUTER only (mandatory
 * delivery), client DEALER only, every checkin and ping sent to the client's connection.
 */
export type RawTopology = "single" | "pair";

/**
 * The topology osad2 itself runs (wire v3: one DEALER ↔ ROUTER connection per osad2 client),
 * so the benches compare like with like.
 */
export const OSAD2_TOPOLOGY: RawTopology = "single";

/** Keeps each simulated-client process at ~8,000 file descriptors (8 per client) under a 20,000 limit. */
export const BENCH_CLIENTS_PER_PROCESS = Math.min(1000, DEFAULT_CLIENTS_PER_PROCESS);

export const DEFAULT_BENCH_OPTIONS: BenchOptions = {
  db: "postgres",
  clients: 1000,
  tries: 100,
  register: "xmlrpc",
  checkinCount: 100,
  pingInterval: 10,
  pollInterval: 1,
  clientsPerProcess: BENCH_CLIENTS_PER_PROCESS,
  command: [],
  connectRate: 200,
  signal: "SIGTERM",
  downSeconds: 5,
  idleSeconds: 60,
  timeoutSeconds: 900,
  serverCli: undefined,
  echo: false,
  raw: true,
  proxies: 3,
  topology: OSAD2_TOPOLOGY,
  steadySeconds: 30,
};

/** A bad flag: the message names it; the CLI prints it with the usage and exits 2. */
export class BenchUsageError extends Error {
  override readonly name = "BenchUsageError";
  constructor(
    readonly flag: string,
    detail: string,
  ) {
    super(`${flag} ${detail}`);
  }
}

function int(flag: string, raw: string | undefined, min: number): number {
  const n = Number(raw);
  if (raw === undefined || !/^\d+$/.test(raw) || n < min) {
    throw new BenchUsageError(
      flag,
      `must be a whole number >= ${min} (got ${JSON.stringify(raw)})`,
    );
  }
  return n;
}

function seconds(flag: string, raw: string | undefined): number {
  const n = Number(raw);
  if (raw === undefined || !Number.isFinite(n) || n < 0.01) {
    throw new BenchUsageError(
      flag,
      `must be a number of seconds >= 0.01 (got ${JSON.stringify(raw)})`,
    );
  }
  return n;
}

function oneOf<T extends string>(flag: string, raw: string | undefined, allowed: readonly T[]): T {
  if (raw === undefined || !(allowed as readonly string[]).includes(raw)) {
    throw new BenchUsageError(
      flag,
      `must be one of ${allowed.join(", ")} (got ${JSON.stringify(raw)})`,
    );
  }
  return raw as T;
}

/** `--flag value` pairs after the subcommand → options (defaults for the rest). */
export function parseBenchFlags(argv: readonly string[], defaults: BenchOptions): BenchOptions {
  const o: { -readonly [K in keyof BenchOptions]: BenchOptions[K] } = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    if (flag === "--echo") {
      o.echo = true;
      continue;
    }
    if (flag === "--no-raw") {
      o.raw = false;
      continue;
    }
    const value = argv[++i];
    switch (flag) {
      case "--db":
        o.db = oneOf(flag, value, ["sqlite", "postgres", "both"] as const);
        break;
      case "--clients":
        o.clients = int(flag, value, 1);
        break;
      case "--tries":
        o.tries = int(flag, value, 1);
        break;
      case "--register":
        o.register = oneOf(flag, value, ["xmlrpc", "store"] as const);
        break;
      case "--checkin-count":
        o.checkinCount = int(flag, value, 0);
        break;
      case "--ping-interval":
        o.pingInterval = seconds(flag, value);
        break;
      case "--poll-interval":
        o.pollInterval = seconds(flag, value);
        break;
      case "--clients-per-process":
        o.clientsPerProcess = int(flag, value, 1);
        break;
      case "--connect-rate":
        o.connectRate = int(flag, value, 0);
        break;
      case "--command":
        if (value === undefined || value === "")
          throw new BenchUsageError(flag, "needs a program path");
        o.command = value === "none" ? [] : [value];
        break;
      case "--signal":
        o.signal = `SIG${oneOf(flag, value, ["TERM", "KILL"] as const)}`;
        break;
      case "--down":
        o.downSeconds = seconds(flag, value);
        break;
      case "--idle":
        o.idleSeconds = seconds(flag, value);
        break;
      case "--topology":
        o.topology = oneOf(flag, value, ["single", "pair"] as const);
        break;
      case "--steady":
        o.steadySeconds = seconds(flag, value);
        break;
      case "--proxies":
        o.proxies = int(flag, value, 1);
        break;
      case "--timeout":
        o.timeoutSeconds = seconds(flag, value);
        break;
      case "--server-cli":
        if (value === undefined || value === "")
          throw new BenchUsageError(flag, "needs a path to cli.js");
        o.serverCli = value;
        break;
      default:
        throw new BenchUsageError(flag, "is not a known flag");
    }
  }
  return o;
}

/** Descriptors the server holds per connected client in each topology. */
const SERVER_FDS_PER_CLIENT: Record<RawTopology, number> = { single: 1, pair: 2 };
/** The server's own descriptors besides its clients' (database, HTTP, key files, libzmq). */
const SERVER_FDS_BASE = 200;

/**
 * Whether `clients` connections fit in the server's descriptor limit with `topology`; the
 * reason when not, so an 18,000-client run fails at once instead of after minutes of set-up.
 */
export function descriptorProblem(
  clients: number,
  topology: RawTopology,
  openFilesLimit: number,
): string | undefined {
  const needed = clients * SERVER_FDS_PER_CLIENT[topology] + SERVER_FDS_BASE;
  if (!Number.isFinite(openFilesLimit) || needed <= openFilesLimit) return undefined;
  return `--clients ${clients} needs about ${needed} descriptors in the server (${SERVER_FDS_PER_CLIENT[topology]} per client with the ${topology} topology), over the open files limit ${openFilesLimit}: fewer clients, or a higher hard limit (ulimit -Hn, needs CAP_SYS_RESOURCE)`;
}

/**
 * `items` in `parts` consecutive groups whose sizes differ by at most one (the first ones the
 * larger): N clients split evenly across P proxies. @throws {RangeError} when parts < 1.
 */
export function splitEvenly<T>(items: readonly T[], parts: number): T[][] {
  if (!Number.isInteger(parts) || parts < 1) throw new RangeError(`parts must be >= 1 (got ${parts})`);
  const base = Math.floor(items.length / parts);
  const extra = items.length % parts;
  const out: T[][] = [];
  for (let i = 0, at = 0; i < parts; i++) {
    const size = base + (i < extra ? 1 : 0);
    out.push(items.slice(at, at + size));
    at += size;
  }
  return out;
}

/** The proxy's descriptors besides its clients' (upstream link, child port, ZAP, libzmq). */
const PROXY_FDS_BASE = 100;

/**
 * Whether `clients` split across `proxies` fit each proxy's descriptor limit (one per client
 * connection) and leave every proxy a client; the reason when not.
 */
export function proxyProblem(
  clients: number,
  proxies: number,
  openFilesLimit: number,
): string | undefined {
  if (proxies > clients) return `--proxies ${proxies} is more than --clients ${clients}`;
  const needed = Math.ceil(clients / proxies) + PROXY_FDS_BASE;
  if (!Number.isFinite(openFilesLimit) || needed <= openFilesLimit) return undefined;
  return `--clients ${clients} across --proxies ${proxies} needs about ${needed} descriptors in each proxy (one per client), over the open files limit ${openFilesLimit}: more proxies or a higher hard limit`;
}
