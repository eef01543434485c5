import { existsSync } from "node:fs";
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  caught,
  createTestDatabase,
  DATABASE_KINDS,
  freePorts,
  TempDirs,
  waitFor,
} from "../src/index.js";

const dirs = new TempDirs();
afterEach(() => dirs.removeAll());

describe("test helpers", () => {
  it("TempDirs removes what it made", async () => {
    const dir = await dirs.make();
    expect(existsSync(dir)).toBe(true);
    await dirs.removeAll();
    expect(existsSync(dir)).toBe(false);
  });

  it("freePorts gives distinct ports that can be bound", async () => {
    const ports = await freePorts(3);
    expect(new Set(ports).size).toBe(3);
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(ports[0], "127.0.0.1", resolve));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("waitFor returns the value and names what it waited for on timeout", async () => {
    let n = 0;
    expect(await waitFor("n to reach 3", () => (++n >= 3 ? n : 0), { everyMs: 1 })).toBe(3);
    await expect(waitFor("never", () => false, { timeoutMs: 20, everyMs: 5 })).rejects.toThrow(
      /timed out after 20 ms waiting for never/,
    );
  });

  it("caught returns the error thrown, sync or async, and fails when there is none", async () => {
    const boom = new RangeError("boom");
    expect(
      await caught(() => {
        throw boom;
      }),
    ).toBe(boom);
    expect(await caught(() => Promise.reject(boom))).toBe(boom);
    await expect(caught(() => 1)).rejects.toThrow(/expected an error, none was thrown/);
  });

  it.each(DATABASE_KINDS)("a %s test database runs SQL and is dropped", async (kind) => {
    const db = await createTestDatabase(kind);
    try {
      await db.query("CREATE TABLE t (x integer)");
      await db.query("INSERT INTO t VALUES (1)");
      expect(await db.count("t")).toBe(1);
    } finally {
      await db.drop();
    }
  });
});

describe("freePort", () => {
  it("never picks from the ephemeral range, where outgoing connections take their ports", async () => {
    const { readFileSync } = await import("node:fs");
    const low = Number(
      readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0],
    );
    const ports = await freePorts(50);
    expect(new Set(ports).size).toBe(50);
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(10_000);
      expect(port).toBeLessThan(low);
    }
  });
});
