import type { SimEvent } from "@osad2/testkit";

/** Everything the simulated clients reported, by client name, for the benches to query. */
export class SimTracker {
  /** Client name → times of its `connected` events (hello sent). */
  readonly connected = new Map<string, number[]>();
  /** Client name → times its checkins arrived. */
  readonly checkins = new Map<string, number[]>();
  /** Client name → start times of its runs. */
  readonly runs = new Map<string, number[]>();
  currentlyConnected = new Set<string>();
  authFailures = 0;
  /** Hellos the server answered `refused busy` (each retried after a few seconds). */
  busyRefusals = 0;
  errors = 0;
  readonly errorSamples: string[] = [];

  constructor(private readonly onRun: (name: string) => void = () => undefined) {}

  readonly listener = (event: SimEvent): void => {
    switch (event.type) {
      case "connected":
        push(this.connected, event.name, event.at);
        this.currentlyConnected.add(event.name);
        break;
      case "disconnected":
        this.currentlyConnected.delete(event.name);
        break;
      case "checkin":
        push(this.checkins, event.name, event.at);
        break;
      case "run":
        push(this.runs, event.name, event.startedAt);
        this.onRun(event.name);
        break;
      case "auth-failed":
        this.authFailures++;
        break;
      case "refused":
        if (event.reason === "busy") this.busyRefusals++;
        break;
      case "error":
        this.errors++;
        if (this.errorSamples.length < 5)
          this.errorSamples.push(`${event.name ?? "-"}: ${event.message}`);
        break;
      default:
        break;
    }
  };

  /** Clients with a `connected` event at or after `since`. */
  connectedSince(since: number): number {
    let n = 0;
    for (const times of this.connected.values()) if (times.some((t) => t >= since)) n++;
    return n;
  }

  /** For each client with a checkin at or after `since`: the first such time. */
  firstCheckinsSince(since: number): Map<string, number> {
    const out = new Map<string, number>();
    for (const [name, times] of this.checkins) {
      const first = times.find((t) => t >= since);
      if (first !== undefined) out.set(name, first);
    }
    return out;
  }

  /** The most checkins any one client got at or after `since`. */
  maxCheckinsSince(since: number): number {
    let max = 0;
    for (const times of this.checkins.values()) {
      const n = times.filter((t) => t >= since).length;
      if (n > max) max = n;
    }
    return max;
  }

  /** Checkins at or after `since`, all clients together (duplicates included). */
  checkinCountSince(since: number): number {
    let n = 0;
    for (const times of this.checkins.values()) for (const t of times) if (t >= since) n++;
    return n;
  }
}

function push(map: Map<string, number[]>, key: string, value: number): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
