/** Sends frames on the PUB socket to every subscribed client (presence pings, checkins). */
export interface Publisher {
  /** Resolves once libzmq has queued the frame; PUB drops it for peers past their high-water mark. */
  publish(frame: Buffer): Promise<void>;
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

/** Replies to one connection over the ROUTER (never blocks; dropped past the high-water mark). */
export interface ReplySender {
  reply(routingId: Buffer, frame: Buffer): void;
}

/** Where a connection comes from, as well as it can be told (see peers.ts). */
export interface PeerDirectory {
  /** Candidate peer addresses of the connection with this routing id (often one, may be none). */
  peersOf(routingId: Buffer): readonly string[];
}
