import { constants, promises as fs } from "node:fs";
import { describeSystemError } from "@osad2/service-kit";
import type { RouterLoopStatus } from "../transport/router-loop.js";
import type { SocketState } from "../transport/sockets.js";

/** What /healthz answers (JSON); HTTP 200 when healthy, 503 otherwise. */
export interface HealthReport {
  readonly healthy: boolean;
  /**
   * The notifying role: `active` binds the client sockets and notifies; `standby` (PostgreSQL
   * failover) waits for the role and serves register_osad — healthy without sockets.
   */
  readonly role: "active" | "standby";
  /**
   * `state` is `ok`, `degraded` (it answers, but writes wait for another process's lock or
   * are refused, e.g. disk full) or `down` (no answer).
   */
  readonly db: {
    readonly ok: boolean;
    readonly kind: string;
    readonly state: "ok" | "degraded" | "down";
    readonly error?: string;
  };
  /** The key store: `public_keys/` readable (missing or unreadable: no client can be allowed). */
  readonly keys: { readonly ok: boolean; readonly error?: string };
  /** File descriptors: `ok` false while the process is at its RLIMIT_NOFILE. */
  readonly descriptors: { readonly ok: boolean; readonly error?: string };
  /** `listener` is the ROUTER socket (listener_port). */
  readonly sockets: SocketState;
  /** The loop reading clients' messages from the ROUTER; `ok` false while it restarts after a failure. */
  readonly router: { readonly ok: boolean; readonly error?: string };
  readonly clientsOnline: number;
  /** Systems asked to check in and not done yet. */
  readonly inFlight: number;
}

/**
 * The parts a health report looks at; absent ones count as down (the server is not running),
 * except `keys` and `descriptors`, which are checked only when given.
 */
export interface HealthSources {
  readonly running: boolean;
  /** Default `active`: sockets and the ROUTER loop are required. */
  readonly role?: "active" | "standby";
  readonly store?: { readonly kind: string; healthCheck(): Promise<void> };
  readonly sockets?: { readonly state: SocketState };
  readonly router?: { readonly status: RouterLoopStatus };
  readonly presence?: { readonly onlineCount: number };
  readonly dispatch?: { readonly inFlight: number };
  /** The key store's directories (checked on each report; not checked when absent). */
  readonly keys?: { readonly layout: { readonly publicKeysDir: string } };
  /** The descriptor watch: a problem while the process is out of file descriptors. */
  readonly descriptors?: { problem(): string | undefined };
}

/** Whatever can answer /healthz (the server). */
export interface HealthSource {
  health(): Promise<HealthReport>;
}

/** How long /healthz waits for the database before calling it unreachable. */
export const HEALTH_DB_TIMEOUT_MS = 2_000;

/** What a failed {@link probe} found. */
export interface ProbeFailure {
  readonly message: string;
  /** The error's class name, when it threw one (e.g. DatabaseWritesFailingError). */
  readonly errorName?: string;
}

/** Runs `check` with a timeout; resolves to what failed, or undefined when it passed. */
export async function probeFailure(
  check: () => Promise<void>,
  timeoutMs: number = HEALTH_DB_TIMEOUT_MS,
): Promise<ProbeFailure | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<ProbeFailure>((resolve) => {
    timer = setTimeout(() => resolve({ message: `no answer within ${timeoutMs} ms` }), timeoutMs);
  });
  try {
    return await Promise.race([
      check().then(
        () => undefined,
        (error: unknown): ProbeFailure =>
          error instanceof Error
            ? { message: error.message, errorName: error.name }
            : { message: String(error) },
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `check` with a timeout; resolves to an error message or undefined when it passed. */
export async function probe(
  check: () => Promise<void>,
  timeoutMs: number = HEALTH_DB_TIMEOUT_MS,
): Promise<string | undefined> {
  return (await probeFailure(check, timeoutMs))?.message;
}

/** Why the key store cannot be used, or undefined: `public_keys/` must be a readable directory. */
export async function keyStoreProblem(publicKeysDir: string): Promise<string | undefined> {
  try {
    const stat = await fs.stat(publicKeysDir);
    if (!stat.isDirectory()) return `${publicKeysDir} is not a directory`;
    await fs.access(publicKeysDir, constants.R_OK | constants.X_OK);
    return undefined;
  } catch (error) {
    return `key store ${publicKeysDir} is unusable (${describeSystemError(error)}): no client key can be checked; restore it (osad2-server init recreates it) and keep it readable by the server`;
  }
}

const DEGRADED_ERRORS = new Set(["DatabaseWritesFailingError"]);

/**
 * Healthy: running, database answering and taking writes, key store readable, descriptors
 * left, both sockets bound, the ROUTER loop reading.
 */
export async function checkHealth(sources: HealthSources): Promise<HealthReport> {
  const store = sources.store;
  const keys = sources.keys;
  const [dbFailure, keysProblem] = await Promise.all([
    store === undefined
      ? Promise.resolve<ProbeFailure>({ message: "server not running" })
      : probeFailure(() => store.healthCheck()),
    keys === undefined ? Promise.resolve(undefined) : keyStoreProblem(keys.layout.publicKeysDir),
  ]);
  const descriptorsProblem = sources.descriptors?.problem();
  const sockets = sources.sockets?.state ?? { publisher: false, listener: false };
  const role = sources.role ?? "active";
  const loop =
    sources.router?.status ??
    (role === "standby" ? { ok: true } : { ok: false, error: "server not running" });
  const router = loop.ok ? { ok: true } : { ok: false, error: loop.error ?? "not reading" };
  const dbState =
    dbFailure === undefined
      ? "ok"
      : DEGRADED_ERRORS.has(dbFailure.errorName ?? "")
        ? "degraded"
        : "down";
  return {
    healthy:
      sources.running &&
      dbFailure === undefined &&
      keysProblem === undefined &&
      descriptorsProblem === undefined &&
      // A standby binds nothing until it takes the notifying role.
      (role === "standby" || (sockets.publisher && sockets.listener && loop.ok)),
    role,
    db: {
      ok: dbFailure === undefined,
      kind: store?.kind ?? "unknown",
      state: dbState,
      ...(dbFailure === undefined ? {} : { error: dbFailure.message }),
    },
    keys: keysProblem === undefined ? { ok: true } : { ok: false, error: keysProblem },
    descriptors:
      descriptorsProblem === undefined ? { ok: true } : { ok: false, error: descriptorsProblem },
    sockets,
    router,
    clientsOnline: sources.presence?.onlineCount ?? 0,
    inFlight: sources.dispatch?.inFlight ?? 0,
  };
}
