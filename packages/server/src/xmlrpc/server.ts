import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { parseMethodCall, serializeFault, serializeResponse, type XmlRpcValue } from "./codec.js";
import {
  FAULT_INTERNAL_ERROR,
  FAULT_METHOD_NOT_FOUND,
  FAULT_SERVER_UNAVAILABLE,
  XmlRpcDecodeError,
  XmlRpcServerError,
} from "./faults.js";
import { describeError } from "@osad2/service-kit";

/** Request path, as Spacewalk serves it. */
export const XMLRPC_PATH = "/XMLRPC";
/** Largest request body accepted (1 MiB); larger ones get HTTP 413 without being read. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** A request must arrive completely within this time (slow-loris guard). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** Who called, for handlers that log or rate-limit. */
export interface XmlRpcCallContext {
  readonly methodName: string;
  readonly remoteAddress: string;
}

/**
 * A method handler. Throw XmlRpcFault (or any error with a numeric `faultCode`, such as
 * RegistrationFault) to answer with that fault; anything else thrown becomes fault -32603.
 */
export type XmlRpcMethod = (
  params: readonly XmlRpcValue[],
  context: XmlRpcCallContext,
) => Promise<XmlRpcValue> | XmlRpcValue;

/** The logging the endpoint needs; a pino logger fits. */
export interface XmlRpcLogger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** Options of {@link startXmlRpcServer}. */
export interface XmlRpcServerOptions {
  /** Bind address, e.g. "0.0.0.0" or "127.0.0.1". */
  readonly host: string;
  /** TCP port; 0 = any free port (see the returned `port`). */
  readonly port: number;
  /** PEM certificate and key (contents, not paths): serve HTTPS instead of HTTP. */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer };
  /** Method name → handler, e.g. from registrationMethods(). */
  readonly methods: Readonly<Record<string, XmlRpcMethod>>;
  /** Default: no logging. */
  readonly logger?: XmlRpcLogger;
  /** Default DEFAULT_MAX_BODY_BYTES (1 MiB). */
  readonly maxBodyBytes?: number;
  /**
   * Recognises errors meaning a dependency (the database) is down for now: those are answered
   * with fault -32500 ("retry later") and logged as a warning. Default: none is.
   */
  readonly isUnavailable?: (error: unknown) => boolean;
}

/** A running endpoint. */
export interface XmlRpcServer {
  /** The port actually bound. */
  readonly port: number;
  /** Stops accepting, ends idle keep-alive connections and waits for running calls; idempotent. */
  close(): Promise<void>;
}

const SILENT: XmlRpcLogger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * Serves XML-RPC on `path /XMLRPC` over node:http(s), with the xmlrpc package's parser and
 * serializer. Unlike xmlrpc.createServer it answers unknown methods with a fault (not HTTP 404),
 * turns thrown handler errors into faults instead of crashing, refuses bodies over 1 MiB, and
 * answers malformed XML with fault -32700.
 */
export async function startXmlRpcServer(options: XmlRpcServerOptions): Promise<XmlRpcServer> {
  const logger = options.logger ?? SILENT;
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const isUnavailable = options.isUnavailable ?? (() => false);
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
    throw new XmlRpcServerError(
      options.host,
      options.port,
      "port must be an integer from 0 to 65535",
    );
  }
  // Own-property lookup only: "constructor" or "__proto__" must not resolve to Object.prototype members.
  const methods = new Map(Object.entries(options.methods));

  const handler = (request: http.IncomingMessage, response: http.ServerResponse): void => {
    handleRequest(request, response, { methods, logger, maxBody, isUnavailable }).catch(
      (error: unknown) => {
        // Last resort: nothing may escape a request into an unhandled rejection, and the
        // caller still gets an XML-RPC answer it can read.
        logger.error({ err: error }, "XML-RPC request failed outside the handler");
        if (response.headersSent) response.end();
        else
          xml(
            response,
            serializeFault(FAULT_INTERNAL_ERROR, "internal error while answering this request"),
          );
      },
    );
  };

  let server: http.Server;
  try {
    server =
      options.tls === undefined
        ? http.createServer(handler)
        : https.createServer({ cert: options.tls.cert, key: options.tls.key }, handler);
  } catch (error) {
    throw new XmlRpcServerError(
      options.host,
      options.port,
      `bad TLS certificate or key (${(error as Error).message})`,
      {
        cause: error,
      },
    );
  }
  server.requestTimeout = DEFAULT_REQUEST_TIMEOUT_MS;
  server.headersTimeout = Math.min(server.headersTimeout, DEFAULT_REQUEST_TIMEOUT_MS);
  server.on("clientError", (error, socket) => {
    logger.debug({ err: error }, "XML-RPC client error");
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    else socket.destroy();
  });
  server.on("tlsClientError", (error) =>
    logger.debug({ err: error }, "XML-RPC TLS handshake failed"),
  );

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(
        new XmlRpcServerError(
          options.host,
          options.port,
          error.code === "EADDRINUSE"
            ? "the port is in use; choose another xmlrpc_port or stop the other process"
            : `cannot listen (${error.message})`,
          { cause: error },
        ),
      );
    };
    server.once("error", onError);
    server.listen(options.port, options.host, () => {
      server.off("error", onError);
      resolve();
    });
  });
  server.on("error", (error) => logger.error({ err: error }, "XML-RPC server error"));
  const port = (server.address() as AddressInfo).port;
  logger.info(
    { host: options.host, port, tls: options.tls !== undefined, path: XMLRPC_PATH },
    "XML-RPC endpoint listening",
  );

  let closing: Promise<void> | undefined;
  return {
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}

interface RequestScope {
  readonly methods: ReadonlyMap<string, XmlRpcMethod>;
  readonly logger: XmlRpcLogger;
  readonly maxBody: number;
  readonly isUnavailable: (error: unknown) => boolean;
}

async function handleRequest(
  request: http.IncomingMessage,
  response: http.ServerResponse,
  scope: RequestScope,
): Promise<void> {
  const remoteAddress = request.socket.remoteAddress ?? "unknown";
  const url = (request.url ?? "").split("?")[0];
  if (url !== XMLRPC_PATH && url !== `${XMLRPC_PATH}/`) {
    return plain(response, 404, `not found: XML-RPC is served at ${XMLRPC_PATH}\n`);
  }
  if (request.method !== "POST") {
    response.setHeader("Allow", "POST");
    return plain(response, 405, "XML-RPC calls must use POST\n");
  }
  const declared = Number(request.headers["content-length"] ?? "0");
  if (declared > scope.maxBody) {
    scope.logger.warn({ remoteAddress, bytes: declared }, "XML-RPC request body too large");
    response.setHeader("Connection", "close");
    return plain(response, 413, `request body larger than ${scope.maxBody} bytes\n`);
  }

  const body = await readBody(request, scope.maxBody);
  if (body === "too-large") {
    scope.logger.warn({ remoteAddress }, "XML-RPC request body too large");
    response.setHeader("Connection", "close");
    return plain(response, 413, `request body larger than ${scope.maxBody} bytes\n`);
  }
  if (body === "aborted") return;

  let call: { methodName: string; params: XmlRpcValue[] };
  try {
    call = await parseMethodCall(body);
  } catch (error) {
    const decode =
      error instanceof XmlRpcDecodeError
        ? error
        : new XmlRpcDecodeError("malformed", describeError(error), { cause: error });
    scope.logger.debug(
      { remoteAddress, reason: decode.reason, err: decode },
      "malformed XML-RPC request",
    );
    return xml(
      response,
      serializeFault(decode.faultCode, `malformed XML-RPC request: ${decode.message}`),
    );
  }

  const method = scope.methods.get(call.methodName);
  if (method === undefined) {
    scope.logger.debug({ remoteAddress, method: call.methodName }, "unknown XML-RPC method");
    return xml(
      response,
      serializeFault(
        FAULT_METHOD_NOT_FOUND,
        `unknown method "${call.methodName}"; this endpoint serves ${[...scope.methods.keys()].join(", ")}`,
      ),
    );
  }

  let result: XmlRpcValue;
  try {
    result = await method(call.params, { methodName: call.methodName, remoteAddress });
  } catch (error) {
    return xml(response, faultFor(error, call.methodName, remoteAddress, scope));
  }
  let text: string;
  try {
    text = serializeResponse(result);
  } catch (error) {
    scope.logger.error({ err: error, method: call.methodName }, "cannot serialise XML-RPC result");
    text = serializeFault(
      FAULT_INTERNAL_ERROR,
      `internal error: the result of ${call.methodName} cannot be serialised`,
    );
  }
  scope.logger.debug({ remoteAddress, method: call.methodName }, "XML-RPC call answered");
  return xml(response, text);
}

/** Maps a thrown error to fault XML, logging it at a level fitting its cause. */
function faultFor(
  error: unknown,
  methodName: string,
  remoteAddress: string,
  { logger, isUnavailable }: RequestScope,
): string {
  const faultCode = (error as { faultCode?: unknown } | null)?.faultCode;
  if (typeof faultCode === "number" && error instanceof Error) {
    logger.info(
      { remoteAddress, method: methodName, faultCode, reason: error.message },
      "XML-RPC call refused",
    );
    return serializeFault(faultCode, error.message);
  }
  if (isUnavailable(error)) {
    logger.warn(
      { remoteAddress, method: methodName, err: error },
      "XML-RPC call failed: database unavailable",
    );
    return serializeFault(
      FAULT_SERVER_UNAVAILABLE,
      "the Spacewalk database is unavailable right now; retry later",
    );
  }
  logger.error({ remoteAddress, method: methodName, err: error }, "XML-RPC handler failed");
  const message = error instanceof Error ? error.message : String(error);
  return serializeFault(FAULT_INTERNAL_ERROR, `internal error in ${methodName}: ${message}`);
}

function readBody(
  request: http.IncomingMessage,
  limit: number,
): Promise<Buffer | "too-large" | "aborted"> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (value: Buffer | "too-large" | "aborted") => {
      if (done) return;
      done = true;
      resolve(value);
    };
    request.on("data", (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        // Stop buffering; the rest is read and dropped so the 413 answer can still be delivered.
        chunks.length = 0;
        finish("too-large");
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => finish(Buffer.concat(chunks)));
    request.on("error", () => finish("aborted"));
    request.on("aborted", () => finish("aborted"));
  });
}

function plain(response: http.ServerResponse, status: number, text: string): void {
  response.writeHead(status, { "Content-Type": "text/plain; charset=utf-8" });
  response.end(text);
}

function xml(response: http.ServerResponse, text: string): void {
  response.writeHead(200, { "Content-Type": "text/xml" });
  response.end(text);
}
