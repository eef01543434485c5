/** Sends frames on the PUB socket to every subscribed client (presence pings, checkins). */
export interface Publisher {
  /** Resolves once libzmq has queued the frame; PUB drops it for peers past their high-water mark. */
  publish(frame: Buffer): Promise<void>;
}

/** Pings and checkins to clients, whichever way each is connected (see delivery.ts). */
export interface ClientSender {
  /** `ping <token>` to every client; resolves once queued. */
  ping(token: string): Promise<void>;
  /** `system:<name> checkin` to that client only. */
  checkin(clientName: string): Promise<void>;
}

/** What became of one frame sent to one connection over the ROUTER. */
export type SendOutcome =
  /** Queued for the peer. */
  | "sent"
  /** No such connection (it closed, or never was): EHOSTUNREACH. */
  | "gone"
  /** The peer is past its send high-water mark (or the sockets are re-binding): dropped. */
  | "full";

/** Sends one frame to one ROUTER connection without ever waiting for the peer. */
export interface ConnectionSender {
  sendTo(routingId: Buffer, frame: Buffer): Promise<SendOutcome>;
}

/** Told when a v3 client's connection is found gone (presence: offline now). */
export interface LostConnections {
  connectionLost(clientName: string): void;
}

/** Where the ROUTER loop reads client messages from. */
export interface InboundSource {
  /** [routing id, ...frames] per message; ends when the sockets close, throws on a receive failure. */
  messages(): AsyncIterable<Buffer[]>;
}

/** Told about CURVE handshakes that failed before ZAP was asked (e.g. a wrong server key). */
export interface HandshakeReport {
  handshakeFailed(failure: {
    /** Our endpoint, as libzmq reports it. */
    readonly endpoint: string;
    readonly code: string;
    /** The likely peer addresses (`ip:port`) of the connection that failed; may be empty. */
    readonly peers?: readonly string[];
  }): void;
}

/** Told when a listening socket fails to accept a connection (EMFILE: descriptors exhausted). */
export interface AcceptReport {
  acceptFailed(code: string | undefined): void;
}

/** Replies to one connection over the ROUTER (never blocks; dropped past the high-water mark). */
export interface ReplySender {
  reply(routingId: Buffer, frame: Buffer): void;
}

/** Where a connection comes from, as well as it can be told (see peers.ts). */
export interface PeerDirectory {
  /** Candidate peer addresses of the connection with this routing id (often one, may be none). */
  peersOf(routingId: Buffer): readonly string[];
}
