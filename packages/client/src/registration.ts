import { readFile } from "node:fs/promises";
import type { RequestOptions } from "node:https";
import { PassThrough } from "node:stream";
import { isCurveKey } from "@osad2/keys";
import { isValidClientName } from "@osad2/protocol";
import { RegistrationError, RegistrationFault } from "./errors.js";
import { type HostPort, describeError, errnoCode, tcpEndpoint } from "@osad2/service-kit";

/** Largest register_osad reply read (1 MiB; a real one is under 1 KiB); larger ones are refused. */
export const MAX_REPLY_BYTES = 1024 * 1024;
/** Default limit for one register_osad call, connection included. */
export const DEFAULT_REGISTRATION_TIMEOUT_MS = 30_000;
/** The XML-RPC method Spacewalk (and osad2-server) serve. */
export const REGISTER_METHOD = "registration.register_osad";

export interface RegisterOptions {
  /** The XML-RPC URL (http or https). */
  readonly serverUrl: string;
  /** CA file(s) for https, `;`-separated; empty = the system's default CAs. */
  readonly caCert?: string;
  /** The systemid file whose text is sent. */
  readonly systemidPath: string;
  /** Default {@link DEFAULT_REGISTRATION_TIMEOUT_MS}. */
  readonly timeoutMs?: number;
}

/** register_osad's reply, typed; osad2 extensions are undefined from a Spacewalk server. */
export interface RegistrationReply {
  /** The push client's (new) name: identity, topic and DEALER routing id. */
  readonly clientName: string;
  readonly sharedKey: string | undefined;
  /** Unix seconds. */
  readonly serverTimestamp: number | undefined;
  /** Host the client must connect to (Spacewalk's name for it). */
  readonly jabberServer: string | undefined;
  readonly dispatchers: readonly string[];
  /** osad2: `tcp://host:port` of the PUB socket. */
  readonly publisherEndpoint: string | undefined;
  /** osad2: `tcp://host:port` of the ROUTER socket. */
  readonly listenerEndpoint: string | undefined;
  /**
   * osad2 with failover: `tcp://host:port` of every server's ROUTER socket (the answering
   * server's own first); empty from Spacewalk and single servers.
   */
  readonly listenerEndpoints: readonly string[];
  /** osad2: the server's CURVE public key (Z85). */
  readonly serverPublicKey: string | undefined;
  /** The struct exactly as received. */
  readonly raw: Readonly<Record<string, unknown>>;
}

/** Reads the systemid file; missing or empty is a RegistrationError("systemid"). */
export async function readSystemId(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = errnoCode(error);
    throw new RegistrationError(
      path,
      "systemid",
      code === "ENOENT"
        ? `systemid file ${path} not found: register this system with Spacewalk first (rhnreg_ks) or set systemid`
        : `cannot read systemid file ${path} (${code ?? describeError(error)}): run as root or fix its permissions`,
      { cause: error },
    );
  }
  if (text.trim() === "") {
    throw new RegistrationError(
      path,
      "systemid",
      `systemid file ${path} is empty: re-register this system with rhnreg_ks`,
    );
  }
  return text;
}

/**
 * Calls `registration.register_osad(<systemid>, {'client-timestamp': <unix>})` once.
 * @throws {RegistrationFault} when the server answers with a fault.
 * @throws {RegistrationError} for the systemid, the network, TLS, HTTP or an unusable reply.
 */
export async function registerOsad(options: RegisterOptions): Promise<RegistrationReply> {
  const systemid = await readSystemId(options.systemidPath);
  const args = { "client-timestamp": Math.floor(Date.now() / 1000) };
  const value = await callXmlRpc(options, REGISTER_METHOD, [systemid, args]);
  return parseReply(options.serverUrl, value);
}

// osad2 makes the HTTP request itself so it can cap the reply's size (xmlrpc's own client
// reads any amount); the codec is still the xmlrpc package's. The HTTP stack (TLS only for an
// https URL) and the codec are imported on the first call: a client that is registered and
// idle should not carry what it does not use (docs/benchmarks.md, idle client).
async function callXmlRpc(
  options: RegisterOptions,
  method: string,
  params: unknown[],
): Promise<unknown> {
  const url = new URL(options.serverUrl);
  const secure = url.protocol === "https:";
  const caFiles = (options.caCert ?? "").split(";").filter((f) => f !== "");
  let ca: Buffer[] | undefined;
  if (secure && caFiles.length > 0) {
    try {
      ca = await Promise.all(caFiles.map((f) => readFile(f)));
    } catch (error) {
      throw new RegistrationError(
        options.serverUrl,
        "network",
        `cannot read CA certificate ${caFiles.join(";")}: ${describeError(error)} — fix ca_cert (or up2date's sslCACert)`,
        { cause: error },
      );
    }
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_REGISTRATION_TIMEOUT_MS;
  const [{ default: serializer }, { default: Deserializer }, transport] = await Promise.all([
    import("xmlrpc/lib/serializer.js"),
    import("xmlrpc/lib/deserializer.js"),
    secure ? import("node:https") : import("node:http"),
  ]);
  const body = serializer.serializeMethodCall(method, params);
  const request: RequestOptions = {
    method: "POST",
    host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: url.port === "" ? (secure ? 443 : 80) : Number(url.port),
    path: `${url.pathname}${url.search}`,
    headers: {
      "Content-Type": "text/xml",
      "Content-Length": Buffer.byteLength(body),
      // One call every registry_interval at most: no pooled socket left holding the process.
      Connection: "close",
    },
    signal: AbortSignal.timeout(timeoutMs),
    ...(ca ? { ca } : {}),
  };
  const serverUrl = options.serverUrl;
  const text = await new Promise<string>((resolve, reject) => {
    const fail = (error: unknown): void => reject(toRegistrationError(serverUrl, error, timeoutMs));
    const req = transport.request(request, (res) => {
      const status = res.statusCode ?? 0;
      if (status < 200 || status >= 300) {
        req.destroy();
        return fail({ res: { statusCode: status } });
      }
      const declared = Number(res.headers["content-length"] ?? "0");
      if (declared > MAX_REPLY_BYTES) {
        req.destroy();
        return reject(tooLarge(serverUrl, `says it is ${declared} bytes`));
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_REPLY_BYTES) {
          chunks.length = 0;
          req.destroy();
          reject(tooLarge(serverUrl, "went on past that"));
          return;
        }
        chunks.push(chunk);
      });
      res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
      res.on("error", fail);
    });
    req.on("error", fail);
    req.end(body);
  });
  return new Promise((resolve, reject) => {
    let settled = false;
    const stream = new PassThrough();
    new Deserializer().deserializeMethodResponse(stream, (error, value) => {
      // The deserializer can report more than once (an error, then the end of the stream).
      if (settled) return;
      settled = true;
      if (error) reject(toRegistrationError(serverUrl, error, timeoutMs));
      else resolve(value);
    });
    stream.end(text);
  });
}

function tooLarge(url: string, detail: string): RegistrationError {
  return new RegistrationError(
    url,
    "too-large",
    `registration reply from ${url} ${detail}, more than the ${MAX_REPLY_BYTES} bytes accepted; refused (a register_osad reply is under 1 KiB: check server_url names the Spacewalk or osad2 XML-RPC endpoint)`,
  );
}

const TLS_CODES = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/;

function toRegistrationError(url: string, error: unknown, timeoutMs: number): Error {
  const e = error as {
    faultCode?: unknown;
    faultString?: unknown;
    name?: string;
    res?: { statusCode?: number };
  };
  if (e.faultCode !== undefined) {
    const code = typeof e.faultCode === "number" ? e.faultCode : Number(e.faultCode);
    return new RegistrationFault(
      url,
      Number.isFinite(code) ? code : 0,
      String(e.faultString ?? ""),
      {
        cause: error,
      },
    );
  }
  const code = errnoCode(error);
  if (e.name === "AbortError" || e.name === "TimeoutError" || code === "ABORT_ERR") {
    return new RegistrationError(
      url,
      "timeout",
      `registration at ${url} got no answer within ${timeoutMs / 1000} s — is the server up and reachable?`,
      { cause: error },
    );
  }
  const status = e.res?.statusCode;
  if (status !== undefined && status >= 300) {
    return new RegistrationError(
      url,
      "http",
      `registration at ${url} answered HTTP ${status}: check server_url (the server's XML-RPC URL)`,
      { cause: error },
    );
  }
  if (code !== undefined && TLS_CODES.test(code)) {
    return new RegistrationError(
      url,
      "network",
      `TLS to ${url} failed (${code}): check ca_cert / up2date's sslCACert names the server's CA and server_url its host name`,
      { cause: error },
    );
  }
  if (code !== undefined) {
    return new RegistrationError(
      url,
      "network",
      `cannot reach ${url} (${code}): check server_url and that the server is running`,
      { cause: error },
    );
  }
  return new RegistrationError(
    url,
    "bad-reply",
    `registration at ${url} gave no usable XML-RPC answer (${describeError(error)}): check server_url`,
    { cause: error },
  );
}

/** Validates and types a register_osad reply. */
export function parseReply(url: string, value: unknown): RegistrationReply {
  const bad = (what: string): never => {
    throw new RegistrationError(url, "bad-reply", `registration reply from ${url} ${what}`);
  };
  if (
    typeof value !== "object" ||
    value === null ||
    Array.isArray(value) ||
    value instanceof Date
  ) {
    return bad("is not a struct");
  }
  const raw = value as Record<string, unknown>;
  if (Object.keys(raw).length === 0) {
    // What Spacewalk answers when its rhn.conf has no jabber_server: push is not set up there.
    return bad(
      "is an empty struct: Spacewalk answers {} when its rhn.conf sets no jabber_server, so it hands out no push client name; " +
        "point server_url at the osad2 server's XML-RPC endpoint (https://<osad2 server>:5557/XMLRPC) or set jabber_server in Spacewalk's rhn.conf",
    );
  }
  const text = (key: string): string | undefined => {
    const v = raw[key];
    if (v === undefined || v === null || v === "") return undefined;
    if (typeof v !== "string") return bad(`has a non-string ${key}`);
    return v;
  };
  const clientName = text("client-name");
  if (clientName === undefined || !isValidClientName(clientName)) {
    return bad(`has no valid client-name (got ${JSON.stringify(raw["client-name"] ?? null)})`);
  }
  const endpoint = (key: string): string | undefined => {
    const v = text(key);
    if (v !== undefined && !/^tcp:\/\/\S+:\d{1,5}$/.test(v))
      return bad(`has ${key} ${JSON.stringify(v)}, not tcp://host:port`);
    return v;
  };
  const listenerEndpoints = raw["listener-endpoints"];
  if (listenerEndpoints !== undefined && !Array.isArray(listenerEndpoints)) {
    return bad("has a listener-endpoints that is not an array");
  }
  const endpointList = (listenerEndpoints ?? []).map((v: unknown) => {
    if (typeof v !== "string" || !/^tcp:\/\/\S+:\d{1,5}$/.test(v))
      return bad(`has listener-endpoints entry ${JSON.stringify(v)}, not tcp://host:port`);
    return v;
  });
  const serverPublicKey = text("server-public-key");
  if (serverPublicKey !== undefined && !isCurveKey(serverPublicKey)) {
    return bad("has a server-public-key that is not a 40-character Z85 CURVE key");
  }
  const timestamp = raw["server-timestamp"];
  const dispatchers = raw["dispatchers"];
  return {
    clientName,
    sharedKey: text("shared-key"),
    serverTimestamp:
      typeof timestamp === "number"
        ? timestamp
        : timestamp === undefined
          ? undefined
          : Number(timestamp),
    jabberServer: text("jabber-server"),
    dispatchers: Array.isArray(dispatchers) ? dispatchers.map(String) : [],
    publisherEndpoint: endpoint("publisher-endpoint"),
    listenerEndpoint: endpoint("listener-endpoint"),
    listenerEndpoints: endpointList,
    serverPublicKey,
    raw,
  };
}

/** One server's two sockets: the ROUTER (every wire) and the PUB (seed format and wire v2 only). */
export interface ServerEndpoints {
  readonly publisherEndpoint: string;
  readonly listenerEndpoint: string;
}

/** What decided {@link Endpoints}: `server_host` in the config wins over the reply. */
export type EndpointSource = "server_host" | "reply" | "jabber-server" | "server_url";

/**
 * Where to connect: every server, the first also as `publisherEndpoint`/`listenerEndpoint`
 * (the one a seed-format or wire-v2 fallback uses).
 */
export interface Endpoints extends ServerEndpoints {
  readonly servers: readonly ServerEndpoints[];
  readonly source: EndpointSource;
}

/** The config keys {@link resolveEndpoints} reads. */
export interface EndpointSettings {
  /** `server_host` as configured; empty = not set. */
  readonly serverHost: readonly HostPort[];
  /** Its host is the last resort. */
  readonly serverUrl: string;
  readonly publisherPort: number;
  readonly listenerPort: number;
}

/**
 * Where to connect, in this order: `server_host` when set (a proxy, or failover servers listed by
 * the administrator — it must win, since Spacewalk's jabber-server names Spacewalk itself); else
 * the reply's `listener-endpoints` (every failover server) or `listener-endpoint`; else
 * `tcp://<jabber-server, else server_url's host>:<port>`.
 */
export function resolveEndpoints(reply: RegistrationReply, settings: EndpointSettings): Endpoints {
  const onHost = (host: string, listenerPort = settings.listenerPort): ServerEndpoints => ({
    publisherEndpoint: tcpEndpoint(host, settings.publisherPort),
    listenerEndpoint: tcpEndpoint(host, listenerPort),
  });
  let servers: ServerEndpoints[];
  let source: EndpointSource;
  if (settings.serverHost.length > 0) {
    servers = settings.serverHost.map(({ host, port }) => onHost(host, port));
    source = "server_host";
  } else {
    const rawHost = reply.jabberServer ?? new URL(settings.serverUrl).hostname;
    const host = rawHost.replace(/^\[(.*)\]$/, "$1");
    const listeners = [
      ...(reply.listenerEndpoint === undefined ? [] : [reply.listenerEndpoint]),
      ...reply.listenerEndpoints,
    ];
    if (listeners.length === 0) listeners.push(onHost(host).listenerEndpoint);
    // Only the first server's PUB is ever used (a v2 fallback, which has no failover).
    const publisherEndpoint = reply.publisherEndpoint ?? onHost(host).publisherEndpoint;
    servers = listeners.map((listenerEndpoint) => ({ publisherEndpoint, listenerEndpoint }));
    source =
      reply.listenerEndpoint !== undefined || reply.listenerEndpoints.length > 0
        ? "reply"
        : reply.jabberServer !== undefined
          ? "jabber-server"
          : "server_url";
  }
  const [first] = servers as [ServerEndpoints, ...ServerEndpoints[]];
  return { ...first, servers: unique(servers), source };
}

function unique(servers: readonly ServerEndpoints[]): ServerEndpoints[] {
  const seen = new Set<string>();
  return servers.filter((s) => !seen.has(s.listenerEndpoint) && !!seen.add(s.listenerEndpoint));
}
