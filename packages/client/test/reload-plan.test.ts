import { generateKeyPair } from "@osad2/keys";
import { afterEach, describe, expect, it } from "vitest";
import type { ClientConfig, ClientKeys } from "../src/index.js";
import { planClientReload } from "../src/reload-plan.js";
import { cleanupTempDirs } from "./helpers.js";
import { disposeWorlds, makeWorld } from "./world.js";

afterEach(async () => {
  await disposeWorlds();
  await cleanupTempDirs();
});

describe("planClientReload (what SIGHUP does)", () => {
  it("registers again only for server_url, ca_cert and systemid; reconnects for endpoints and keys", async () => {
    const world = await makeWorld();
    const config = await world.config();
    const keys: ClientKeys = {
      clientKeyPair: world.clientKeys,
      serverPublicKey: world.serverKeys.publicKey,
    };
    const plan = (change: Partial<ClientConfig>, newKeys: ClientKeys = keys) =>
      planClientReload({ config, keys }, { config: { ...config, ...change }, keys: newKeys });

    expect(plan({})).toEqual({ register: [], reconnect: [], restartNeeded: [] });
    expect(plan({ jitter: 5, registryInterval: 60, debugLevel: 1, stateFile: "/x" })).toEqual({
      register: [],
      reconnect: [],
      restartNeeded: [],
    });
    expect(plan({ serverUrl: "http://other/XMLRPC", systemid: "/y" }).register).toEqual([
      "server_url",
      "systemid",
    ]);
    expect(plan({ caCert: "/ca.pem" }).register).toEqual(["ca_cert"]);
    expect(
      plan({ serverHost: [{ host: "h", port: undefined }], listenerPort: 1 }).reconnect,
    ).toEqual(["server_host", "listener_port"]);
    expect(plan({}, { ...keys, clientKeyPair: generateKeyPair() }).reconnect).toEqual([
      "client_secret_key",
    ]);
    expect(plan({}, { ...keys, serverPublicKey: undefined }).reconnect).toEqual([
      "server_public_key",
    ]);
    expect(plan({ logfile: "/l", pidfile: "/p" }).restartNeeded).toEqual(["logfile", "pidfile"]);
  });
});
