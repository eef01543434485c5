/** Who a client connection is, as the handshake that let it in told: its CURVE key and IP address. */
export interface Attribution {
  readonly publicKey: string;
  readonly address: string | null;
}

/** Default of {@link AttributionGate}'s wait for the connection of an admitted handshake. */
export const CLAIM_TIMEOUT_MS = 3_000;

/**
 * Ties each admitted handshake to the connection it becomes. zeromq.js tells a ROUTER neither
 * a peer's CURVE key nor its address, and ZAP tells neither the routing id; but libzmq
 * attaches the connection (a ROUTER_NOTIFY connect message) right after ZAP says 200, before
 * the peer can send anything. So admissions go one at a time: each 200 is sent only once the
 * connection of the previous one has been claimed (or {@link CLAIM_TIMEOUT_MS} has passed:
 * its peer went away mid-handshake). A handshake costs a local round trip more, not a
 * network one. Refusals need no turn.
 */
export class AttributionGate {
  private chain: Promise<void> = Promise.resolve();
  private current: { readonly who: Attribution; readonly release: () => void } | undefined;

  constructor(private readonly claimTimeoutMs = CLAIM_TIMEOUT_MS) {}

  /** Runs `reply` (the ZAP 200) in turn; resolves once it was sent. */
  admit(who: Attribution, reply: () => Promise<void>): Promise<void> {
    let claimed: () => void = () => undefined;
    const turn = this.chain.then(() => {
      // Waiting for its connection before the reply leaves: zeromq.js may settle the send
      // after libzmq has already attached the connection (and the ROUTER has read it).
      const wait = new Promise<void>((resolve) => (claimed = resolve));
      const timer = setTimeout(() => {
        if (this.current?.who === who) this.current = undefined;
        claimed();
      }, this.claimTimeoutMs);
      this.current = {
        who,
        release: () => {
          clearTimeout(timer);
          claimed();
        },
      };
      return wait;
    });
    const sent = this.chain.then(reply);
    this.chain = Promise.all([turn, sent.catch(() => undefined)]).then(() => undefined);
    return sent;
  }

  /** A new connection appeared: whose handshake it was, if one is waiting. */
  claim(): Attribution | undefined {
    const current = this.current;
    if (current === undefined) return undefined;
    this.current = undefined;
    current.release();
    return current.who;
  }
}
