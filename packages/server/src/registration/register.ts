import { randomBytes } from "node:crypto";
import type { SpacewalkSystem } from "../db/types.js";
import type { XmlRpcStruct, XmlRpcValue } from "../xmlrpc/codec.js";
import { FAULT_NO_JABBER_ID, RegistrationFault } from "./errors.js";
import type { RegistrationStore } from "./store.js";
import { verifySystemId } from "./systemid.js";

/** What register_osad adds to Spacewalk's reply, from the server's configuration. */
export interface RegistrationReplyExtras {
  /** Host name clients connect to; returned as `jabber-server` (config `public_host`). */
  readonly publicHost: string;
  /** `publisher-endpoint`, e.g. tcp://spacewalk.example.com:5555. */
  readonly publisherEndpoint: string;
  /** `listener-endpoint`, e.g. tcp://spacewalk.example.com:5556. */
  readonly listenerEndpoint: string;
  /**
   * `listener-endpoints`: every failover server's ROUTER, this one's first (config
   * `failover_servers`); empty = the member is left out (a single server).
   */
  readonly listenerEndpoints?: readonly string[];
  /** `server-public-key`: the server's CURVE public key in Z85 (40 characters). */
  readonly serverPublicKey: string;
}

/** register_osad's reply: the echoed args plus Spacewalk's members and osad2's extensions. */
export interface RegisterOsadReply extends XmlRpcStruct {
  readonly "client-name": string;
  readonly "shared-key": string;
  readonly "server-timestamp": number;
  readonly "jabber-server": string;
  readonly dispatchers: readonly string[];
  readonly "publisher-endpoint": string;
  readonly "listener-endpoint": string;
  readonly "server-public-key": string;
}

/** A fresh push client name: 16 lowercase hex characters, as Spacewalk generates. */
export function newClientName(): string {
  return randomBytes(8).toString("hex");
}

/** A fresh shared key: 40 lowercase hex characters, as Spacewalk generates. */
export function newSharedKey(): string {
  return randomBytes(20).toString("hex");
}

/**
 * Authenticates a systemid against the store (RegistrationFault when it is not valid) and, as
 * Spacewalk's auth_system does, records it as a check-in (the web UI's "Last Checked In").
 */
export async function authenticateSystem(
  store: RegistrationStore,
  systemIdXml: string,
): Promise<SpacewalkSystem> {
  const { system } = await verifySystemId(systemIdXml, (id) => store.findSystem(id));
  await store.recordCheckin(system.id, new Date());
  return system;
}

/**
 * registration.register_osad: authenticates the systemid, gives the system's push client a fresh
 * name and shared key (state offline, next_action_time and last_ping_time cleared, one
 * transaction), and returns Spacewalk's reply struct with osad2's endpoint extensions.
 * Every call rotates the name, as in Spacewalk. Nothing is written when authentication fails.
 */
export async function registerOsad(
  store: RegistrationStore,
  systemIdXml: string,
  args: XmlRpcStruct,
  extras: RegistrationReplyExtras,
): Promise<RegisterOsadReply> {
  const system = await authenticateSystem(store, systemIdXml);
  const clientName = newClientName();
  const sharedKey = newSharedKey();
  await store.registerPushClient(system.id, { name: clientName, sharedKey });
  // Spacewalk lists rhnPushDispatcher's jabber ids, [] when there are none.
  const dispatchers = (await store.pushDispatchers()).map((d) => d.jabberId);
  return {
    ...copyStruct(args),
    "client-name": clientName,
    "shared-key": sharedKey,
    "server-timestamp": Math.floor(Date.now() / 1000),
    "jabber-server": extras.publicHost,
    dispatchers,
    "publisher-endpoint": extras.publisherEndpoint,
    "listener-endpoint": extras.listenerEndpoint,
    ...(extras.listenerEndpoints === undefined || extras.listenerEndpoints.length === 0
      ? {}
      : { "listener-endpoints": extras.listenerEndpoints }),
    "server-public-key": extras.serverPublicKey,
  };
}

/** Longest jabber id rhnPushClient.jabber_id holds. */
export const MAX_JABBER_ID_LENGTH = 128;

/** registration.register_osad_jid: records args["jabber-id"] for the authenticated system; returns {}. */
export async function registerOsadJid(
  store: RegistrationStore,
  systemIdXml: string,
  args: XmlRpcStruct,
): Promise<Record<string, never>> {
  const system = await authenticateSystem(store, systemIdXml);
  const jabberId = Object.hasOwn(args, "jabber-id") ? args["jabber-id"] : undefined;
  if (typeof jabberId !== "string" || jabberId === "") {
    throw new RegistrationFault(FAULT_NO_JABBER_ID, "missing-jabber-id", "No jabber-id specified");
  }
  if (jabberId.length > MAX_JABBER_ID_LENGTH) {
    throw new RegistrationFault(
      FAULT_NO_JABBER_ID,
      "missing-jabber-id",
      `jabber-id is longer than ${MAX_JABBER_ID_LENGTH} characters`,
    );
  }
  await store.registerPushClientJid(system.id, jabberId);
  return {};
}

function copyStruct(args: XmlRpcStruct): Record<string, XmlRpcValue> {
  const out: Record<string, XmlRpcValue> = {};
  for (const key of Object.keys(args)) {
    const value = args[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}
