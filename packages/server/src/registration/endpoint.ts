import { readFile } from "node:fs/promises";
import { isUnavailable } from "../db/connection.js";
import {
  ConfigError,
  type HostPort,
  describeSystemError,
  type Logger,
  tcpEndpoint,
} from "@osad2/service-kit";
import { startXmlRpcServer } from "../xmlrpc/server.js";
import type { RegistrationStore } from "./store.js";
import { registrationMethods } from "./xmlrpc-methods.js";

/** Options of {@link startRegistrationEndpoint}. */
export interface RegistrationEndpointOptions {
  readonly store: RegistrationStore;
  /** Bind address; `*` = all interfaces. */
  readonly host: string;
  readonly port: number;
  /** PEM files; both empty = plain HTTP. */
  readonly tlsCert: string;
  readonly tlsKey: string;
  /** Host clients connect to (jabber-server and the endpoints in the reply). */
  readonly publicHost: string;
  readonly publisherPort: number;
  readonly listenerPort: number;
  /** Config `failover_servers`: every server of a failover set (a port-less entry: listenerPort). */
  readonly failoverServers?: readonly HostPort[];
  readonly serverPublicKey: string;
  readonly logger: Logger;
}

/** The running register_osad endpoint. */
export interface RegistrationEndpoint {
  readonly port: number;
  /** http(s)://public_host:port/XMLRPC */
  readonly url: string;
  close(): Promise<void>;
}

async function readPem(path: string, key: "tls_cert" | "tls_key"): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (cause) {
    throw new ConfigError(
      `${key} ${path}: cannot be read (${describeSystemError(cause)}): fix ${key} or the file's permissions`,
      { key, path },
      { cause },
    );
  }
}

function hostForUrl(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

/** Serves registration.register_osad / register_osad_jid for clients (path /XMLRPC). */
export async function startRegistrationEndpoint(
  options: RegistrationEndpointOptions,
): Promise<RegistrationEndpoint> {
  const tls =
    options.tlsCert === ""
      ? undefined
      : {
          cert: await readPem(options.tlsCert, "tls_cert"),
          key: await readPem(options.tlsKey, "tls_key"),
        };
  const publicHost = hostForUrl(options.publicHost);
  const server = await startXmlRpcServer({
    host: options.host === "*" ? "0.0.0.0" : options.host,
    port: options.port,
    ...(tls === undefined ? {} : { tls }),
    methods: registrationMethods(options.store, {
      publicHost: options.publicHost,
      publisherEndpoint: `tcp://${publicHost}:${options.publisherPort}`,
      listenerEndpoint: `tcp://${publicHost}:${options.listenerPort}`,
      listenerEndpoints: failoverEndpoints(
        `tcp://${publicHost}:${options.listenerPort}`,
        options.failoverServers ?? [],
        options.listenerPort,
      ),
      serverPublicKey: options.serverPublicKey,
    }),
    logger: options.logger,
    isUnavailable,
  });
  return {
    port: server.port,
    url: `${tls === undefined ? "http" : "https"}://${publicHost}:${server.port}/XMLRPC`,
    close: () => server.close(),
  };
}

/** This server's ROUTER first, then every other listed server's (none listed: empty). */
export function failoverEndpoints(
  own: string,
  servers: readonly HostPort[],
  listenerPort: number,
): string[] {
  if (servers.length === 0) return [];
  const listed = servers.map(({ host, port }) => tcpEndpoint(host, port ?? listenerPort));
  return [own, ...listed.filter((endpoint) => endpoint !== own)];
}
