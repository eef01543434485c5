import { setImmediate as nextTurn, setTimeout as sleep } from "node:timers/promises";
import * as zmq from "zeromq";
import type { SimCounts, SimEvent } from "./events.js";
import { SimClient } from "./client.js";
import { parseSimSpec, type ResolvedSimSpec, type SimSpec } from "./spec.js";

/**
 * Many simulated clients in this process, sharing one ZeroMQ context (and its I/O thread)
 * whose socket limit is raised for them. Each client keeps its own key pair and CURVE
 * sessions. Used by `osad2-sim-clients`; usable directly in a test for a few clients.
 */
export class SimPool {
  readonly spec: ResolvedSimSpec;
  private readonly context: zmq.Context;
  private readonly clients: SimClient[] = [];
  private readonly counts = {
    pings: 0,
    checkins: 0,
    runs: 0,
    hellos: 0,
    disconnects: 0,
    errors: 0,
  };
  private closed = false;

  /** @param spec checked with {@link parseSimSpec}; throws SimSpecError. */
  constructor(
    spec: SimSpec,
    private readonly listener: (event: SimEvent) => void,
  ) {
    this.spec = parseSimSpec(spec);
    if (!zmq.capability.curve) throw new Error("this zeromq build has no CURVE support");
    this.context = new zmq.Context({ maxSockets: this.spec.maxSockets, blocky: false });
  }

  /**
   * Starts every client ({@link SimSpec.connectRate} per second, or {@link SimSpec.connectBatch}
   * per event-loop turn); resolves when all are connecting.
   */
  async start(): Promise<void> {
    const emit = (event: SimEvent): void => this.count(event);
    const t0 = Date.now();
    const rate = this.spec.connectRate;
    for (const [i, identity] of this.spec.clients.entries()) {
      if (this.closed) return;
      const client = new SimClient(identity, {
        context: this.context,
        publisherEndpoint: this.spec.publisherEndpoint,
        listenerEndpoint: this.spec.listenerEndpoint,
        serverPublicKey: this.spec.serverPublicKey,
        command: this.spec.command,
        software: this.spec.software,
        liveness: this.spec.liveness,
        wireVersion: this.spec.wireVersion,
        reportPings: this.spec.reportPings,
        emit,
        onPing: () => this.counts.pings++,
      });
      this.clients.push(client);
      client.start();
      if (rate > 0) {
        // Client i+1 is due at t0 + (i+1)/rate seconds.
        const wait = t0 + ((i + 1) / rate) * 1000 - Date.now();
        if (wait > 0) await sleep(wait);
        else if ((i + 1) % this.spec.connectBatch === 0) await nextTurn();
      } else if ((i + 1) % this.spec.connectBatch === 0) await nextTurn();
    }
    this.listener({
      type: "started",
      pid: process.pid,
      clients: this.clients.length,
      at: Date.now(),
    });
  }

  /** Totals so far. */
  snapshot(): SimCounts {
    return { ...this.counts };
  }

  /** Closes every socket (linger 0); idempotent. Emits `stopped` the first time. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const client of this.clients) client.close();
    this.listener({ type: "stopped", pid: process.pid, counts: this.snapshot(), at: Date.now() });
  }

  private count(event: SimEvent): void {
    switch (event.type) {
      case "connected":
        this.counts.hellos++;
        break;
      case "disconnected":
        this.counts.disconnects++;
        break;
      case "checkin":
        this.counts.checkins++;
        break;
      case "run":
        this.counts.runs++;
        break;
      case "error":
      case "auth-failed":
        this.counts.errors++;
        break;
      default:
        break;
    }
    this.listener(event);
  }
}
