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
  handshakeFailed(failure: { readonly endpoint: string; readonly code: string }): void;
}
