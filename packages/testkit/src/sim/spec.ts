import { isCurveKey } from "@osad2/keys";
import { isValidClientName } from "@osad2/protocol";
import { SimSpecError } from "./errors.js";

/** One simulated system: its push-client name (from registration) and its own CURVE key pair. */
export interface SimIdentity {
  /** rhnPushClient.name; the DEALER routing id and the `system:<name>` topic. */
  readonly name: string;
  readonly publicKey: string;
  readonly secretKey: string;
  /** The shared key register_osad returned with the name: signs hello, pongs and goodbye. */
  readonly sharedKey: string;
}

/**
 * What one `osad2-sim-clients` process runs (its JSON spec file), or what {@link SimPool} takes.
 * Every field but the endpoints, the server key and the clients has a default.
 */
export interface SimSpec {
  /** The server's PUB, e.g. `tcp://127.0.0.1:5555`. */
  readonly publisherEndpoint: string;
  /** The server's ROUTER, e.g. `tcp://127.0.0.1:5556`. */
  readonly listenerEndpoint: string;
  /** Server public key, Z85. */
  readonly serverPublicKey: string;
  readonly clients: readonly SimIdentity[];
  /**
   * argv of a command spawned for each checkin (the client's name appended), at most one per
   * client at a time, a checkin during a run causing exactly one more run — like rhn_check in
   * the real client. Empty (default): a run is recorded at once without spawning anything.
   */
  readonly command?: readonly string[];
  /** Clients started per event-loop turn, so 10,000 connects do not starve the loop. Default 100. */
  readonly connectBatch?: number;
  /**
   * Clients this process starts per second; 0 (default) = all at once. Thousands of CURVE
   * handshakes at once overrun a server's 30 s handshake limit; the failed ones back off
   * (up to 60 s) and the whole start-up takes longer than a paced one.
   */
  readonly connectRate?: number;
  /** ZMQ_MAX_SOCKETS of the process's shared context. Default: 6 per client + 64. */
  readonly maxSockets?: number;
  /**
   * The real client's liveness options (clientLivenessOptions: TCP keepalive after 10 s idle,
   * dropped after 20 s unanswered). Default true; false only to measure what they cost.
   */
  readonly liveness?: boolean;
  /**
   * Wire version: 3 (default) = one DEALER connection carrying pings and checkins; 2 = the
   * SUB + DEALER pair of osad2 0.2 (for mixed fleets).
   */
  readonly wireVersion?: 2 | 3;
  /** `software` in each hello. Default "osad2-sim/0.1.0". */
  readonly software?: string;
  /**
   * Report every ping as a `ping` event (tests anchor "nothing more came" on ping rounds).
   * Default false: at 10,000 clients that is 10,000 events per ping_interval.
   */
  readonly reportPings?: boolean;
}

export const DEFAULT_CONNECT_BATCH = 100;
export const DEFAULT_SIM_SOFTWARE = "osad2-sim/0.1.0";
/** SUB + DEALER + two monitor PAIR sockets each (zmq_socket_monitor), rounded up for slack. */
export const SOCKETS_PER_SIM_CLIENT = 6;

/** A spec with every default filled in. */
export type ResolvedSimSpec = Required<SimSpec>;

function endpoint(field: string, value: unknown): string {
  if (typeof value !== "string" || !/^tcp:\/\/127\.0\.0\.1:\d{1,5}$/.test(value)) {
    throw new SimSpecError(field, `must be tcp://127.0.0.1:<port> (got ${JSON.stringify(value)})`);
  }
  return value;
}

function positiveInt(field: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new SimSpecError(field, `must be a whole number >= 1 (got ${JSON.stringify(value)})`);
  }
  return value;
}

function nonNegative(field: string, value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new SimSpecError(field, `must be a number >= 0 (got ${JSON.stringify(value)})`);
  }
  return value;
}

function identity(index: number, value: unknown): SimIdentity {
  const field = `clients[${index}]`;
  if (typeof value !== "object" || value === null)
    throw new SimSpecError(field, "must be an object");
  const { name, publicKey, secretKey, sharedKey } = value as Record<string, unknown>;
  if (typeof name !== "string" || !isValidClientName(name)) {
    throw new SimSpecError(`${field}.name`, `is not a valid client name: ${JSON.stringify(name)}`);
  }
  if (typeof publicKey !== "string" || !isCurveKey(publicKey)) {
    throw new SimSpecError(`${field}.publicKey`, "must be a 40-character Z85 CURVE key");
  }
  if (typeof secretKey !== "string" || !isCurveKey(secretKey)) {
    throw new SimSpecError(`${field}.secretKey`, "must be a 40-character Z85 CURVE key");
  }
  if (typeof sharedKey !== "string" || sharedKey.length === 0 || sharedKey.length > 128) {
    throw new SimSpecError(
      `${field}.sharedKey`,
      "must be the register_osad shared-key (1-128 characters)",
    );
  }
  return { name, publicKey, secretKey, sharedKey };
}

/** Checks a spec (parsed JSON or an object literal) and fills in the defaults. */
export function parseSimSpec(input: unknown): ResolvedSimSpec {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new SimSpecError("(spec)", "must be a JSON object");
  }
  const raw = input as Record<string, unknown>;
  if (typeof raw.serverPublicKey !== "string" || !isCurveKey(raw.serverPublicKey)) {
    throw new SimSpecError("serverPublicKey", "must be a 40-character Z85 CURVE key");
  }
  if (!Array.isArray(raw.clients) || raw.clients.length === 0) {
    throw new SimSpecError("clients", "must be a non-empty array");
  }
  const clients = raw.clients.map((c: unknown, i) => identity(i, c));
  const names = new Set<string>();
  for (const c of clients) {
    if (names.has(c.name)) throw new SimSpecError("clients", `name ${c.name} appears twice`);
    names.add(c.name);
  }
  let command: string[] = [];
  if (raw.command !== undefined) {
    if (!Array.isArray(raw.command) || raw.command.some((a) => typeof a !== "string")) {
      throw new SimSpecError("command", "must be an array of strings (argv)");
    }
    command = raw.command as string[];
    if (command.length > 0 && command[0] === "")
      throw new SimSpecError("command", "has an empty program");
  }
  if (raw.liveness !== undefined && typeof raw.liveness !== "boolean") {
    throw new SimSpecError("liveness", "must be true or false");
  }
  if (raw.wireVersion !== undefined && raw.wireVersion !== 2 && raw.wireVersion !== 3) {
    throw new SimSpecError("wireVersion", "must be 2 or 3");
  }
  if (raw.reportPings !== undefined && typeof raw.reportPings !== "boolean") {
    throw new SimSpecError("reportPings", "must be true or false");
  }
  const software = raw.software ?? DEFAULT_SIM_SOFTWARE;
  if (typeof software !== "string" || software.length === 0 || software.length > 64) {
    throw new SimSpecError("software", "must be a string of 1-64 characters");
  }
  return {
    publisherEndpoint: endpoint("publisherEndpoint", raw.publisherEndpoint),
    listenerEndpoint: endpoint("listenerEndpoint", raw.listenerEndpoint),
    serverPublicKey: raw.serverPublicKey,
    clients,
    command,
    connectBatch: positiveInt("connectBatch", raw.connectBatch, DEFAULT_CONNECT_BATCH),
    connectRate: nonNegative("connectRate", raw.connectRate),
    maxSockets: positiveInt(
      "maxSockets",
      raw.maxSockets,
      clients.length * SOCKETS_PER_SIM_CLIENT + 64,
    ),
    software,
    liveness: raw.liveness === undefined ? true : raw.liveness === true,
    reportPings: raw.reportPings === true,
    wireVersion: raw.wireVersion === 2 ? 2 : 3,
  };
}
