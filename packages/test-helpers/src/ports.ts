import { readFileSync } from "node:fs";
import net from "node:net";

/** Ports below the kernel's ephemeral range start here (the well-known services sit lower). */
const LOWEST_PORT = 10_000;

/**
 * The kernel's ephemeral range (`ip_local_port_range`). Ports the OS hands out for `listen(0)`
 * come from it, and so do the source ports of every outgoing connection: a port picked there
 * can be taken by any client's connect between the pick and the server's bind (seen as
 * "address already in use" under load). Ports below it are only ever taken by an explicit bind.
 */
function ephemeralRange(): { low: number; high: number } {
  try {
    const [low, high] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8")
      .trim()
      .split(/\s+/)
      .map(Number);
    if (low !== undefined && high !== undefined && low > LOWEST_PORT + 1_000) return { low, high };
  } catch {
    // Not Linux: fall back to the IANA range below.
  }
  return { low: 49_152, high: 65_535 };
}

/** Ports this process handed out already: two picks never return the same port. */
const handedOut = new Set<number>();

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once("error", () => resolve(false));
    // The wildcard address: servers under test bind `*` as often as 127.0.0.1.
    server.listen({ port, host: "0.0.0.0", exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}

/**
 * A TCP port that is free now, chosen at random below the ephemeral range so that no outgoing
 * connection can take it before the server under test binds it.
 */
export async function freePort(): Promise<number> {
  const { low } = ephemeralRange();
  for (let attempt = 0; attempt < 1_000; attempt++) {
    const port = LOWEST_PORT + Math.floor(Math.random() * (low - LOWEST_PORT));
    if (handedOut.has(port)) continue;
    if (await bindable(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free TCP port between ${LOWEST_PORT} and ${low - 1} after 1,000 tries`);
}

/** Several distinct free ports. */
export async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) ports.push(await freePort());
  return ports;
}
