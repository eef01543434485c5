import { readFile } from "node:fs/promises";

/** TCP states of a connection the server side just closed (see include/net/tcp_states.h). */
const CLOSING_STATES = new Set(["04", "05", "07", "09", "0B"]); // FIN_WAIT1/2, CLOSE, LAST_ACK, CLOSING
const TIME_WAIT = "06";
/** TIME_WAIT lasts 60 s: one with more than this left was closed in the last ~3 s. */
const RECENT_TIME_WAIT_JIFFIES_LEFT = 57 * 100;
const MAX_PEERS = 4;

/**
 * The peer addresses of connections to `port` that were closed a moment ago, read from
 * /proc/net/tcp and tcp6 (Linux). libzmq reports a failed CURVE handshake with the listening
 * endpoint only; the connection it just dropped is still in one of these tables, so this
 * names the likely peer. Empty when /proc is not there. Best effort, never throws.
 */
export async function recentlyClosedPeers(port: number): Promise<string[]> {
  const peers: string[] = [];
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = await readFile(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      const [, local, remote, state, , timer] = fields;
      if (local === undefined || remote === undefined || state === undefined) continue;
      if (parseInt(local.slice(local.indexOf(":") + 1), 16) !== port) continue;
      const recent =
        CLOSING_STATES.has(state) ||
        (state === TIME_WAIT &&
          parseInt(timer?.split(":")[1] ?? "0", 16) > RECENT_TIME_WAIT_JIFFIES_LEFT);
      if (!recent) continue;
      const address = decodeAddress(remote);
      if (address !== undefined && !peers.includes(address)) peers.push(address);
      if (peers.length >= MAX_PEERS) return peers;
    }
  }
  return peers;
}

/** Default of {@link ClosedPeerLookup}'s reuse window. */
const REUSE_MS = 1_000;

/**
 * {@link recentlyClosedPeers} for a stream of handshake failures: one read of the tables per
 * port at a time, its answer reused for the failures of the next second. With 18,000
 * connections /proc/net/tcp is megabytes; a burst of failed handshakes (a fleet timing out
 * while the server is loaded) read it once each and made the server busier still.
 */
export class ClosedPeerLookup {
  private readonly recent = new Map<
    number,
    { readonly at: number; readonly peers: Promise<string[]> }
  >();

  constructor(
    private readonly read: (port: number) => Promise<string[]> = recentlyClosedPeers,
    private readonly reuseMs = REUSE_MS,
    private readonly now: () => number = Date.now,
  ) {}

  peersOf(port: number): Promise<string[]> {
    const at = this.now();
    const last = this.recent.get(port);
    if (last !== undefined && at - last.at < this.reuseMs) return last.peers;
    const peers = this.read(port);
    this.recent.set(port, { at, peers });
    return peers;
  }
}

/** `0100007F:D431` → `127.0.0.1:54321`; IPv6 as 4 little-endian words. */
function decodeAddress(hex: string): string | undefined {
  const [ip, port] = hex.split(":");
  if (ip === undefined || port === undefined) return undefined;
  const p = parseInt(port, 16);
  if (ip.length === 8) {
    const bytes = Buffer.from(ip, "hex").reverse();
    return `${bytes.join(".")}:${p}`;
  }
  if (ip.length === 32) {
    const words: string[] = [];
    for (let i = 0; i < 32; i += 8) {
      const word = Buffer.from(ip.slice(i, i + 8), "hex")
        .reverse()
        .toString("hex");
      words.push(word.slice(0, 4), word.slice(4));
    }
    const v4 = words.slice(0, 6).join(":") === "0000:0000:0000:0000:0000:ffff";
    if (v4) {
      const b = Buffer.from(words[6] + (words[7] ?? ""), "hex");
      return `${b.join(".")}:${p}`;
    }
    return `[${words.map((w) => w.replace(/^0+(?=.)/, "")).join(":")}]:${p}`;
  }
  return undefined;
}
