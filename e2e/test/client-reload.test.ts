// SIGHUP to a real osad2-client connected to a real osad2-server: a reload that changes
// nothing about registration keeps the client's name and connection, so the server has no
// reason to announce due work again (a re-registration would rotate the name, reconnect, and
// the hello would make the server re-send the still-due action: a second rhn_check).
import { readFile, writeFile } from "node:fs/promises";
import { waitFor } from "@osad2/test-helpers";
import { Deployment } from "@osad2/testkit";
import { afterEach, describe, expect, it } from "vitest";

describe("osad2-client SIGHUP against osad2-server (SQLite)", () => {
  let d: Deployment | undefined;
  afterEach(async () => {
    await d?.dispose();
    d = undefined;
  });

  it("unchanged registration settings: same name, still online, the still-due action is not run again", async () => {
    // A long renotify_interval: only a reconnection's hello could announce the action again.
    d = await Deployment.launch({ database: "sqlite", serverConfig: { renotify_interval: 3600 } }, [
      "web",
    ]);
    const name = (await d.pushClient("web"))?.name;
    await d.schedule(["web"]); // never completed: it stays due
    await waitFor("the action's run", async () => (await d!.runs()).length === 1);
    await d.pingRounds("web", 2);

    const client = d.clients.get("web")!;
    const system = d.systems.get("web")!;
    // A setting that is not about registration.
    const config = await readFile(system.configPath, "utf8");
    await writeFile(
      system.configPath,
      config.replace("[osad]\n", "[osad]\nrhn_check_timeout = 600\n"),
    );
    client.child.kill("SIGHUP");
    await client.waitForLine(/configuration (and keys )?reloaded/);
    // A re-registration would have reconnected by now and had its hello answered.
    await d.pingRounds("web", 4);

    expect(await d.pushClient("web")).toMatchObject({ name, state: "online" });
    expect(await d.runs()).toHaveLength(1);
    expect(client.matching(/registering as push client/)).toHaveLength(1);
  });

  it("a changed server_url: registers again, under a new name, and stays pushable", async () => {
    d = await Deployment.launch({ database: "sqlite" }, ["db"]);
    const first = (await d.pushClient("db"))?.name;
    const client = d.clients.get("db")!;
    const system = d.systems.get("db")!;
    const config = await readFile(system.configPath, "utf8");
    // The same endpoint under another name: a different server_url.
    await writeFile(system.configPath, config.replace("//127.0.0.1:", "//localhost:"));
    client.child.kill("SIGHUP");
    await client.waitForLine(/registration settings changed \(server_url\): registering again/);
    const second = await waitFor("a new name online", async () => {
      const row = await d!.pushClient("db");
      return row?.state === "online" && row.name !== first ? row.name : undefined;
    });
    expect(second).toMatch(/^[0-9a-f]{16}$/);
    await d.schedule(["db"]);
    await waitFor("a run under the new name", async () => (await d!.runs()).length === 1);
  });
});
