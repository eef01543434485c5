import { chmod, lstat, unlink } from "node:fs/promises";
import { createServer, request, type Server } from "node:http";
import { connect } from "node:net";
import { join } from "node:path";
import { ensureDirectory, errnoCode, type Logger } from "@osad2/service-kit";
import { STATE_DIR_MODE } from "../presence/managed-file.js";
import { ControlSocketError } from "./errors.js";
import type { LiveState } from "./live-types.js";

/** The control socket's file in state_dir. */
export const CONTROL_SOCKET_FILE = "control.sock";
/** Only the service user (and root) may connect. */
export const CONTROL_SOCKET_MODE = 0o600;
const LIVE_PATH = "/v1/live";

/** Path of the control socket in a state directory. */
export function controlSocketPath(stateDir: string): string {
  return join(stateDir, CONTROL_SOCKET_FILE);
}

/** What the control socket serves. */
export interface LiveStateSource {
  liveState(): LiveState;
}

/** A listening control socket. */
export interface ControlSocket {
  readonly path: string;
  /** Stops listening and removes the socket file. Idempotent. */
  close(): Promise<void>;
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/**
 * Serves GET /v1/live (JSON) on a unix socket, mode 0600: the local, permission-checked way
 * `doctor` and `systems` read the running server's state (never over the TCP metrics port).
 * A socket file left by a crashed server is removed; one a live server answers on is not.
 */
export async function startControlSocket(options: {
  readonly stateDir: string;
  readonly source: LiveStateSource;
  readonly logger: Logger;
}): Promise<ControlSocket> {
  const path = controlSocketPath(options.stateDir);
  await ensureDirectory(options.stateDir, STATE_DIR_MODE);
  const existing = await lstat(path).catch(() => undefined);
  if (existing !== undefined) {
    if (!existing.isSocket())
      throw new ControlSocketError(path, "exists and is not a socket; move it away");
    if (await answers(path)) {
      throw new ControlSocketError(
        path,
        "another osad2-server answers on it (same state_dir?); stop it first",
      );
    }
    await unlink(path);
  }
  const server: Server = createServer((req, res) => {
    if (req.method !== "GET" || req.url !== LIVE_PATH) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return;
    }
    try {
      const body = JSON.stringify(options.source.liveState());
      res.writeHead(200, { "content-type": "application/json" }).end(body);
    } catch (error) {
      options.logger.error({ err: error }, "control socket: live state failed");
      res.writeHead(500, { "content-type": "text/plain" }).end("internal error\n");
    }
  });
  // Until the chmod below the socket has the umask's mode; state_dir (0750) keeps others out meanwhile.
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(path, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    throw new ControlSocketError(path, `cannot listen (${errnoCode(error) ?? String(error)})`, {
      cause: error,
    });
  }
  await chmod(path, CONTROL_SOCKET_MODE);
  let closing: Promise<void> | undefined;
  return {
    path,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }).then(() => unlink(path).catch(() => undefined))),
  };
}

/**
 * The running server's state from its control socket; null when no server listens there
 * (no socket file, or nobody answers). Other failures (no permission, a bad answer) throw
 * {@link ControlSocketError}.
 */
export function fetchLiveState(stateDir: string, timeoutMs = 5_000): Promise<LiveState | null> {
  const path = controlSocketPath(stateDir);
  return new Promise((resolve, reject) => {
    const req = request(
      { socketPath: path, path: LIVE_PATH, method: "GET", timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          if (res.statusCode !== 200) {
            reject(new ControlSocketError(path, `answered HTTP ${res.statusCode ?? "?"}`));
            return;
          }
          try {
            const state = JSON.parse(Buffer.concat(chunks).toString("utf8")) as LiveState;
            if (state.version !== 1) throw new Error(`version ${String(state.version)}`);
            resolve(state);
          } catch (error) {
            reject(
              new ControlSocketError(path, "answered something that is not live state version 1", {
                cause: error,
              }),
            );
          }
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", (error) => {
      const code = errnoCode(error);
      if (code === "ENOENT" || code === "ECONNREFUSED") resolve(null);
      else if (code === "EACCES")
        reject(
          new ControlSocketError(
            path,
            "permission denied: run as root or as the osad2 service user",
            { cause: error },
          ),
        );
      else reject(new ControlSocketError(path, describe(error), { cause: error }));
    });
    req.end();
  });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
