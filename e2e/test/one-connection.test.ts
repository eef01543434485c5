// Wire v3 with the real CLIs: each osad2 client holds one connection to the server (its
// DEALER), and a client killed with SIGKILL is offline at the server's next ping, through the
// failed ROUTER send (missed_pings is 1000 here, so missed pings cannot be why).
import fs from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "@osad2/test-helpers";
import { Deployment } from "@osad2/testkit";

let d: Deployment;

beforeAll(async () => {
  d = await Deployment.create({
    database: "sqlite",
    pingInterval: 0.3,
    serverConfig: { missed_pings: 1000 },
  });
  await d.init();
  await d.addSystem("a");
  await d.addSystem("b");
  await d.startServer();
  d.startClient("a");
  d.startClient("b");
  await d.waitOnline("a");
  await d.waitOnline("b");
});
afterAll(async () => {
  await d?.dispose();
});

/** The server process's established TCP descriptors accepted on `port`. */
async function serverDescriptors(pid: number, port: number): Promise<number> {
  const inodes = new Set<string>();
  for (const file of ["tcp", "tcp6"]) {
    const text = await fs.readFile(`/proc/${pid}/net/${file}`, "utf8").catch(() => "");
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] !== "01") continue;
      if (Number.parseInt(f[1]?.split(":")[1] ?? "", 16) === port) inodes.add(f[9] as string);
    }
  }
  let count = 0;
  for (const fd of await fs.readdir(`/proc/${pid}/fd`)) {
    const link = await fs.readlink(`/proc/${pid}/fd/${fd}`).catch(() => "");
    const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
    if (inode !== undefined && inodes.has(inode)) count += 1;
  }
  return count;
}

describe("one connection per osad2 client (wire v3)", () => {
  it("the server holds one descriptor per client, none on the PUB port", async () => {
    const pid = d.server?.pid ?? -1;
    expect(await serverDescriptors(pid, d.ports.listener)).toBe(2);
    expect(await serverDescriptors(pid, d.ports.publisher)).toBe(0);
  });

  it("a client killed with SIGKILL is offline at the next ping; the other stays online", async () => {
    await d.stopClient("a", "SIGKILL");
    await waitFor("a offline", async () => (await d.pushClient("a"))?.state === "offline");
    expect((await d.pushClient("b"))?.state).toBe("online");
  });
});
